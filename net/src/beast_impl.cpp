// Boost.Beast and Boost.Asio compiled once (separate compilation): every other file that includes
// them sees BOOST_BEAST_SEPARATE_COMPILATION and BOOST_ASIO_SEPARATE_COMPILATION (hocba_beast's
// public compile definitions) and only declares what this file defines. Keeps each including file
// small to compile.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
