// The signature and seal images (store/images.h): a user's handwritten signature
// (/api/v1/users/{id}/signature-image: the user themself or an admin) and the school's seal
// (/api/v1/seal-image: the admin). The body of a PUT is the PNG itself (Content-Type: image/png), checked
// by pdf::decode_png; a refusal carries the image_* code the web UI words in Vietnamese.
#include "app_internal.h"
#include "hocba/pdf/image.h"
#include "hocba/store/images.h"

namespace hocba::api {

namespace {

constexpr std::size_t kMaxImageBody = 512 * 1024;  // pdf::ImageLimits::max_file_bytes

// The listener adds Cache-Control: no-store and X-Content-Type-Options: nosniff to every answer.
HttpResponse png_response(const Bytes& png) { return HttpResponse::text(200, std::string(png.begin(), png.end()), "image/png"); }

}  // namespace

HttpResponse App::Impl::get_image(const store::ImageSlot& slot) {
  auto png = store::Images(store).png(slot);
  if (!png) return from_error(png.error());
  if (!*png) return not_found(slot.is_seal() ? "seal image" : "signature image");
  return png_response(**png);
}

HttpResponse App::Impl::put_image(const Caller& caller, const store::ImageSlot& slot, const std::string& body) {
  if (body.empty()) return bad_request("send the PNG as the request body (Content-Type: image/png)");
  // A decoded image takes up to 16 MiB: a few at once, whoever sends them.
  struct Slot {
    std::atomic<int>& n;
    ~Slot() { n.fetch_sub(1); }
  } slot_taken{image_checks};
  if (image_checks.fetch_add(1) >= kMaxImageChecks) {
    HttpResponse busy = HttpResponse::error(503, "unavailable", "too many images are being checked right now; try again in a moment");
    busy.headers.emplace_back("Retry-After", "2");
    return busy;
  }
  pdf::ImageProblem problem = pdf::ImageProblem::none;
  auto img = pdf::decode_png(std::span(reinterpret_cast<const std::uint8_t*>(body.data()), body.size()), pdf::ImageLimits{}, &problem);
  if (!img) return HttpResponse::error(problem == pdf::ImageProblem::too_large ? 413 : 422, pdf::image_problem_code(problem), img.error().message);
  Bytes png(body.begin(), body.end());
  if (auto st = store::Images(store).put(caller.actor(), slot, png, img->width, img->height); !st) return from_error(st.error());
  return ok_json(json::object{{"ok", true}, {"width", img->width}, {"height", img->height}, {"bytes", png.size()}});
}

HttpResponse App::Impl::delete_image(const Caller& caller, const store::ImageSlot& slot) {
  if (auto st = store::Images(store).remove(caller.actor(), slot); !st) return from_error(st.error());
  return ok_json(json::object{{"ok", true}});
}

void App::Impl::add_image_routes() {
  // The user themself or an admin; a user that does not exist is a 404 for the admin only.
  auto own = [this](Ctx& c, std::int64_t& id) -> std::optional<HttpResponse> {
    id = param_id(c);
    if (id < 0) return bad_request("the user id must be a number");
    if (c.caller->role != Role::admin && c.caller->user_id != id) return forbidden("only the user themself or an admin may change a user's signature image");
    return std::nullopt;
  };
  const std::string user_path = "/api/v1/users/{id}/signature-image";
  add("GET", user_path, kAllRoles, "read a user's handwritten-signature image (the user or an admin)", [this, own](Ctx& c) {
    std::int64_t id = 0;
    if (auto refused = own(c, id)) return *refused;
    return get_image(store::ImageSlot::signature_of(id));
  });
  add("PUT", user_path, kAllRoles, "set a user's handwritten-signature image (the user or an admin)", [this, own](Ctx& c) {
    std::int64_t id = 0;
    if (auto refused = own(c, id)) return *refused;
    return put_image(*c.caller, store::ImageSlot::signature_of(id), c.req.body);
  });
  routes.back().info.max_body = kMaxImageBody;
  routes.back().info.body_type = "image/png";
  add("DELETE", user_path, kAllRoles, "delete a user's handwritten-signature image (the user or an admin)", [this, own](Ctx& c) {
    std::int64_t id = 0;
    if (auto refused = own(c, id)) return *refused;
    return delete_image(*c.caller, store::ImageSlot::signature_of(id));
  });

  add("GET", "/api/v1/seal-image", {"admin", "principal", "deputy_principal"}, "read the school's seal image",
      [this](Ctx&) { return get_image(store::ImageSlot::seal()); });
  add("PUT", "/api/v1/seal-image", {"admin"}, "set the school's seal image",
      [this](Ctx& c) { return put_image(*c.caller, store::ImageSlot::seal(), c.req.body); });
  routes.back().info.max_body = kMaxImageBody;
  routes.back().info.body_type = "image/png";
  add("DELETE", "/api/v1/seal-image", {"admin"}, "delete the school's seal image",
      [this](Ctx& c) { return delete_image(*c.caller, store::ImageSlot::seal()); });
}

}  // namespace hocba::api
