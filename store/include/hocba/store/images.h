// Images (the images table and STATE/images/): each user's handwritten-signature image and the
// school's seal image, transparent PNGs drawn in signed fields (Decree 30/2020). The PNG is a file
// named by its SHA-256, written atomically before the row that names it; the row (one per slot) and
// the audit entry of a change are one transaction; put and remove hold a lock on STATE/images.lock, so
// that removing a slot's image never deletes a file another slot's upload is about to name. This
// repository stores bytes it is given: the caller has checked them (pdf::decode_png). No SQLite type
// appears here.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "hocba/common/error.h"
#include "hocba/common/fileio.h"
#include "hocba/store/store.h"

namespace hocba::store {

// Whose image: a user's handwritten signature, or (user_id empty) the school's seal.
struct ImageSlot {
  std::optional<std::int64_t> user_id;
  static ImageSlot seal() { return {}; }
  static ImageSlot signature_of(std::int64_t user_id) { return {user_id}; }
  bool is_seal() const { return !user_id.has_value(); }
};

struct ImageInfo {
  std::string sha256;  // lowercase hex of the PNG file
  std::int64_t width = 0, height = 0, bytes = 0;
  std::string updated_at, updated_by;  // UTC ISO 8601; the actor ("user:alice")
};

class Images {
 public:
  explicit Images(Store& store) : store_(&store) {}

  Result<std::optional<ImageInfo>> info(const ImageSlot& slot);
  // The users that have a signature image (for the admin's list of users).
  Result<std::set<std::int64_t>> users_with_signature();
  // The PNG of the slot, read back and checked against its hash (Errc::io when the file is missing or
  // changed); nullopt when the slot has no image.
  Result<std::optional<Bytes>> png(const ImageSlot& slot);

  // Sets or replaces the slot's image ("image.set": slot, sha256, size). Errc::not_found for a user
  // that does not exist.
  Status put(const std::string& actor, const ImageSlot& slot, const Bytes& png, std::int64_t width, std::int64_t height);
  // Removes it ("image.delete"); Errc::not_found when the slot has none.
  Status remove(const std::string& actor, const ImageSlot& slot);

  std::string folder() const;  // state_dir/images

 private:
  Store* store_;
};

}  // namespace hocba::store
