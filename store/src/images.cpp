// Signature and seal images.
#include "hocba/store/images.h"

#include <unistd.h>

#include <boost/json.hpp>

#include "hocba/common/bytes.h"
#include "store_internal.h"

namespace hocba::store {
namespace {

constexpr std::size_t kMaxImageFile = std::size_t(4) << 20;  // far above what uploads allow (512 KiB)

// The slot's WHERE clause and parameters.
std::string slot_where(const ImageSlot& s) { return s.is_seal() ? "kind = 'seal'" : "kind = 'signature' AND user_id = ?"; }
std::vector<DbValue> slot_params(const ImageSlot& s) {
  if (s.is_seal()) return {};
  return {*s.user_id};
}

boost::json::object slot_json(const ImageSlot& s) {
  boost::json::object o{{"kind", s.is_seal() ? "seal" : "signature"}};
  if (!s.is_seal()) o["user_id"] = *s.user_id;
  return o;
}

// Serialises the changes to the image files and the rows that name them: put's write-file-then-commit
// and the check-then-unlink below, which would otherwise delete a file another slot's upload of the
// same bytes has written but not yet committed (its row would then name a missing file). A flock on
// STATE/images.lock, so that threads of one process and several processes (hocbad, hocba) all wait.
FileLock lock_images(Store& store) { return FileLock(store.state_dir() + "/images.lock"); }

// Removes the file of `sha256` when no row names it any more (after the commit that dropped the last
// one). The caller holds lock_images().
void drop_unused_file(Store& store, const std::string& folder, const std::string& sha256) {
  if (sha256.empty()) return;
  auto used = store.query("SELECT 1 FROM images WHERE sha256 = ? LIMIT 1", {sha256});
  if (!used || !used->empty()) return;
  ::unlink((folder + "/" + sha256 + ".png").c_str());
  (void)sync_dir(folder);
}

}  // namespace

std::string Images::folder() const { return store_->state_dir() + "/images"; }

Result<std::optional<ImageInfo>> Images::info(const ImageSlot& slot) {
  auto rows = store_->query("SELECT sha256, width, height, bytes, updated_at, updated_by FROM images WHERE " + slot_where(slot), slot_params(slot));
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<ImageInfo>{};
  const DbRow& r = rows->front();
  return std::optional<ImageInfo>{ImageInfo{as_text(r[0]), as_int(r[1]), as_int(r[2]), as_int(r[3]), as_text(r[4]), as_text(r[5])}};
}

Result<std::set<std::int64_t>> Images::users_with_signature() {
  auto rows = store_->query("SELECT user_id FROM images WHERE kind = 'signature'");
  if (!rows) return rows.error();
  std::set<std::int64_t> out;
  for (const DbRow& r : *rows) out.insert(as_int(r[0]));
  return out;
}

Result<std::optional<Bytes>> Images::png(const ImageSlot& slot) {
  auto i = info(slot);
  if (!i) return i.error();
  if (!*i) return std::optional<Bytes>{};
  std::string path = folder() + "/" + (*i)->sha256 + ".png";
  auto b = read_file(path, kMaxImageFile);
  if (!b) return make_error(Errc::io, "the stored image " + path + " cannot be read: " + b.error().message);
  if (sha256_hex(std::span<const std::uint8_t>(*b)) != (*i)->sha256)
    return make_error(Errc::io, "the stored image " + path + " does not match its hash in the store");
  return std::optional<Bytes>{std::move(*b)};
}

Status Images::put(const std::string& actor, const ImageSlot& slot, const Bytes& png, std::int64_t width, std::int64_t height) {
  std::string sha = sha256_hex(std::span<const std::uint8_t>(png));
  if (auto st = make_dirs_durable(folder(), 0700); !st) return st;
  FileLock lock = lock_images(*store_);
  // The file first: a crash before the commit leaves an unnamed file, never a row without its file.
  if (auto st = write_file_atomic(folder() + "/" + sha + ".png", png, 0600); !st) return st;
  std::string old_sha;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    if (!slot.is_seal()) {
      auto u = tx.query("SELECT 1 FROM users WHERE id = ?", {*slot.user_id});
      if (!u) return u.error();
      if (u->empty()) return make_error(Errc::not_found, "no user " + std::to_string(*slot.user_id));
    }
    auto old = tx.query("SELECT sha256 FROM images WHERE " + slot_where(slot), slot_params(slot));
    if (!old) return old.error();
    if (!old->empty()) old_sha = as_text(old->front()[0]);
    if (auto d = tx.exec("DELETE FROM images WHERE " + slot_where(slot), slot_params(slot)); !d) return d.error();
    auto r = tx.exec("INSERT INTO images(kind, user_id, sha256, width, height, bytes, updated_at, updated_by) VALUES(?,?,?,?,?,?,?,?)",
                     {std::string(slot.is_seal() ? "seal" : "signature"), slot.is_seal() ? DbValue{} : DbValue{*slot.user_id}, sha, width,
                      height, static_cast<std::int64_t>(png.size()), now_utc(), actor});
    if (!r) return r.error();
    boost::json::object d = slot_json(slot);
    d["sha256"] = sha;
    d["bytes"] = static_cast<std::int64_t>(png.size());
    d["width"] = width;
    d["height"] = height;
    if (!old_sha.empty()) d["replaced_sha256"] = old_sha;
    if (auto a = tx.audit(actor, "image.set", boost::json::serialize(d)); !a) return a.error();
    return {};
  });
  if (!st) {
    drop_unused_file(*store_, folder(), sha);
    return st;
  }
  if (old_sha != sha) drop_unused_file(*store_, folder(), old_sha);
  return {};
}

Status Images::remove(const std::string& actor, const ImageSlot& slot) {
  FileLock lock = lock_images(*store_);
  std::string old_sha;
  Status st = store_->transaction([&](Tx& tx) -> Status {
    auto old = tx.query("SELECT sha256 FROM images WHERE " + slot_where(slot), slot_params(slot));
    if (!old) return old.error();
    if (old->empty()) return make_error(Errc::not_found, slot.is_seal() ? "the school has no seal image" : "the user has no signature image");
    old_sha = as_text(old->front()[0]);
    if (auto d = tx.exec("DELETE FROM images WHERE " + slot_where(slot), slot_params(slot)); !d) return d.error();
    boost::json::object d = slot_json(slot);
    d["sha256"] = old_sha;
    if (auto a = tx.audit(actor, "image.delete", boost::json::serialize(d)); !a) return a.error();
    return {};
  });
  if (!st) return st;
  drop_unused_file(*store_, folder(), old_sha);
  return {};
}

}  // namespace hocba::store
