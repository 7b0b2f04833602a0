// The signing workflow: see workflow.h.
#include "hocba/workflow/workflow.h"

#include <openssl/cms.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "hocba/common/bytes.h"
#include "hocba/common/clock.h"
#include "hocba/common/fileio.h"
#include "hocba/common/ossl.h"
#include "hocba/pdf/signing.h"
#include "hocba/store/images.h"
#include "hocba/signer/key.h"
#include "hocba/signer/pades.h"
#include "hocba/signer/timestamp.h"
#include "hocba/store/records.h"

namespace hocba::workflow {

namespace json = boost::json;
using store::Role;
using store::role_name;

namespace {

// A record's folder and its new parents, each synced into its parent before the PDF goes in.
Status make_dirs(const std::string& dir) { return make_dirs_durable(dir, 0777); }

// A title block's lines as one appearance title ('\n' between lines).
std::string title_text(const std::vector<std::string>& lines) {
  std::string t;
  for (const std::string& l : lines) t += (t.empty() ? "" : "\n") + l;
  return t;
}

// Is `candidate` exactly `current` plus one incremental update holding `field`'s signature, made with
// the certificate `cert` (DER)? (What a run that stopped after writing it would have left.)
bool adoptable(const Bytes& current, const Bytes& candidate, const std::string& field, const Bytes& cert) {
  if (candidate.size() <= current.size() || !std::equal(current.begin(), current.end(), candidate.begin())) return false;
  auto in = pdf::inspect(candidate);
  if (!in || in->signatures.empty()) return false;
  const pdf::FoundSignature& last = in->signatures.back();
  if (last.field_name != field || last.covered_end != candidate.size()) return false;
  const unsigned char* p = last.contents.data();
  std::unique_ptr<CMS_ContentInfo, decltype(&CMS_ContentInfo_free)> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(last.contents.size())), CMS_ContentInfo_free);
  auto x = x509_from_der(cert);
  if (!cms || !x) return false;
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
  return sis && sk_CMS_SignerInfo_num(sis) == 1 && CMS_SignerInfo_cert_cmp(sk_CMS_SignerInfo_value(sis, 0), x.get()) == 0;
}

}  // namespace

Workflow::Workflow(WorkflowOptions opts, store::Store& store, hsm::Hsm& hsm, signer::TimestampClient* tsa, Metrics& metrics)
    : opts_(std::move(opts)), store_(store), hsm_(hsm), tsa_(tsa), metrics_(metrics), chain_(opts_.cfg.workflow) {}

pdf::RenderOptions Workflow::render_options(const std::string& level) const {
  pdf::RenderOptions ro;
  ro.form.primary_homeroom_comment = opts_.cfg.forms.primary_homeroom_comment;
  ro.form.secondary_subject_comments = opts_.cfg.forms.secondary_subject_comments;
  // The form's printed boxes, each holding the step of this level's chain that names it (`box`): its
  // field is the step's name, its title the step's. A box no step fills is printed as on paper,
  // without a signature field; a step with no box gets an invisible field when it signs.
  const std::vector<std::string>& steps = chain_.record_steps(level).empty() ? chain_.record_fields() : chain_.record_steps(level);
  std::vector<std::string> fields;
  for (pdf::SignatureBox& b : ro.boxes) {
    auto it = std::find_if(steps.begin(), steps.end(), [&](const std::string& n) {
      const config::Step* s = chain_.step(n);
      return s && s->box == b.box;
    });
    if (it == steps.end()) continue;
    b.field = *it;
    if (b.box != pdf::kBoxSeal) b.title = chain_.step(*it)->title;
    fields.push_back(b.field);
  }
  // An empty box keeps its usual field name unless a step of the chain took that name.
  for (pdf::SignatureBox& b : ro.boxes)
    if (std::find(fields.begin(), fields.end(), b.field) == fields.end() &&
        std::count_if(ro.boxes.begin(), ro.boxes.end(), [&](const pdf::SignatureBox& o) { return o.field == b.field; }) > 1)
      b.field = "unused_" + b.box;
  ro.fields = std::move(fields);
  return ro;
}

std::string Workflow::class_level(std::int64_t class_id) {
  auto level = store::Classes(store_).level(class_id);
  return level && *level ? **level : std::string();
}

std::string Workflow::record_path(std::int64_t class_id, const std::string& personal_id, std::int64_t version, std::size_t step) const {
  return "records/" + std::to_string(class_id) + "/" + personal_id + "/v" + std::to_string(version) + "-" + std::to_string(step) + ".pdf";
}

bool Workflow::reserve(std::int64_t record_id) {
  std::lock_guard lk(busy_mu_);
  return busy_.insert(record_id).second;
}

void Workflow::release(std::int64_t record_id) {
  std::lock_guard lk(busy_mu_);
  busy_.erase(record_id);
}

Result<BoundKey> Workflow::key_by_id(std::int64_t id) {
  auto key = store::Keys(store_).by_id(id);
  if (!key) return key.error();
  if (!*key) return make_error(Errc::not_found, "key " + std::to_string(id) + " is not bound (any more)");
  return **key;
}

Result<hsm::KeyRef> Workflow::key_ref(const BoundKey& bk) {
  {
    std::lock_guard lk(key_refs_mu_);
    if (auto it = key_refs_.find(bk.id); it != key_refs_.end()) return it->second;
  }
  // Resolving asks the token (on its queue): once per key, not once per signature, so an interactive
  // signature waits behind at most one batch signature.
  auto uri = hsm::Pkcs11Uri::parse(bk.uri);
  if (!uri) return uri.error();
  auto ref = hsm_.find_key(*uri);
  if (!ref) return ref.error();
  std::lock_guard lk(key_refs_mu_);
  key_refs_[bk.id] = *ref;
  return ref;
}

void Workflow::forget_key_ref(std::int64_t key_id) {
  std::lock_guard lk(key_refs_mu_);
  key_refs_.erase(key_id);
}

Result<BoundKey> Workflow::key_for(const Actor& who, const std::string& step, std::int64_t wanted) {
  bool seal = chain_.is_seal(step);
  store::Keys keys(store_);
  auto bound = seal ? keys.seal() : keys.bound_to(who.user_id);
  if (!bound) return bound.error();
  if (bound->empty())
    return make_error(Errc::not_found, seal ? "no key is bound to the school seal; the admin binds one"
                                            : "no signing key is bound to " + who.username + "; the admin binds one");
  for (const BoundKey& k : *bound)
    if (wanted == 0 || k.id == wanted) return k;
  return make_error(Errc::forbidden, "key " + std::to_string(wanted) + (seal ? " is not the seal's" : " is not yours"));
}

std::string Workflow::sealed_seal_refusal(const std::string& step, bool pin_given, bool confirm_pin_risk) const {
  if (!uses_sealed_pin(step)) return "";
  if (!pin_given && !confirm_pin_risk) return "";
  return std::string("the seal's PIN is sealed on this appliance (seal.pin_file or seal.pin_credential): send no ") +
         (pin_given ? "PIN" : "confirm_pin_risk") + " for the seal; only the sealed PIN is ever tried on its token";
}

std::string Workflow::may_sign(const Actor& who, const std::string& field, std::int64_t class_id) {
  const config::Step* step = chain_.step(field);
  if (!step) return "this school's chain has no step " + field;
  if (step->scope != "record") return "the " + field + " step is confirmed on score sheets, not signed on records";
  if (!step->may_sign(store::role_name(who.role))) {
    std::string roles = step->role;
    for (const std::string& r : step->substitutes) roles += " or " + r;
    return "the " + field + " step (" + step->label + ") is signed by the " + roles;
  }
  if (class_id == 0) return "";
  if (who.role == Role::homeroom_teacher) {
    // A homeroom teacher signs the records of their own classes only.
    auto homeroom = store::Classes(store_).homeroom(class_id);
    if (!homeroom || !*homeroom) return "no such class";
    if (**homeroom != who.user_id) return "you are not the homeroom teacher of this class";
  }
  std::string level = class_level(class_id);
  int position = chain_.position(level, field);
  if (position < 0) return "records of " + (level.empty() ? std::string("this class") : level) + " classes take no " + field + " signature";
  if (position == 0) return sheets_waiting(class_id);  // the subject teachers confirm their scores first
  return "";
}

Result<Bytes> Workflow::sign_bytes(const Bytes& in, const config::Step& step_def, bool first, const BoundKey& bk, const Secret* pin,
                                   const Actor& who, bool batch, bool confirm_pin_risk) {
  auto ref = key_ref(bk);
  if (!ref) return ref.error();
  signer::TokenSignOptions to;
  to.pin = pin;
  to.batch = batch;
  to.check_pin_when_logged_in = true;
  to.confirm_pin_risk = confirm_pin_risk;
  auto key = signer::token_key(hsm_, *ref, to);

  signer::PadesOptions po;
  po.field_name = step_def.name;
  po.reason = step_def.reason;
  if (opts_.cfg.school.name) po.location = *opts_.cfg.school.name;
  auto hash = opts_.cfg.signing.hash;
  po.hash = hash == "sha384" ? signer::Hash::sha384 : hash == "sha512" ? signer::Hash::sha512 : signer::Hash::sha256;
  po.lock_signed_fields = opts_.cfg.signing.lock_fields;
  if (first && opts_.cfg.signing.certify_first) po.certify_p = 2;
  signer::VisibleSignature vis;
  vis.title = title_text(step_def.title_for(role_name(who.role)));
  vis.seal = step_def.seal;
  // The image drawn in the field: the seal's, or the signer's handwritten signature, as uploaded
  // (store::Images); else a file placed by hand in STATE/images by earlier versions (the demo seal).
  auto stored = store::Images(store_).png(vis.seal ? store::ImageSlot::seal() : store::ImageSlot::signature_of(who.user_id));
  if (!stored) return stored.error();
  if (*stored) {
    vis.image_png = std::move(**stored);
  } else {
    struct stat st {};
    std::string image = vis.seal ? abs("images/seal.png") : abs("images/user-" + who.username + ".png");
    if (::stat(image.c_str(), &st) == 0)
      if (auto img = read_file(image, 4u << 20)) vis.image_png = std::move(*img);
  }
  if (vis.seal && vis.image_png.empty()) vis.seal = false, vis.title = "Con dấu";
  po.appearance = std::move(vis);
  auto level = signer::parse_level(opts_.level);
  po.level = level ? *level : signer::Level::B_B;
  if (po.level != signer::Level::B_B) {
    po.level = signer::Level::B_T;  // B-LT/B-LTA: `hocba extend` adds the validation data afterwards
    po.timestamps = tsa_;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto out = signer::sign_pdf(in, *key, po);
  if (!out && out.error().code == Errc::token_not_present) forget_key_ref(bk.id);  // resolve it afresh next time
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string key_label = bk.label.empty() ? std::to_string(bk.id) : bk.label;
  metrics_.counter_add("hocba_token_busy_seconds_total", {{"key", key_label}}, secs);
  if (!out) {
    metrics_.counter_add("hocba_signatures_total", {{"key", key_label}, {"result", errc_name(out.error().code)}});
    return out.error();
  }
  metrics_.counter_add("hocba_signatures_total", {{"key", key_label}, {"result", "ok"}});
  return std::move(out->pdf);
}

Status Workflow::sign_record(std::int64_t record_id, const std::string& field, const BoundKey& bk, const Secret* pin, const Actor& caller,
                             std::int64_t job_id, bool batch, bool confirm_pin_risk) {
  auto rec = store::Records(store_).for_signing(record_id);
  if (!rec) return rec.error();
  if (!*rec) return make_error(Errc::not_found, "record " + std::to_string(record_id) + " does not exist");
  const store::RecordForSigning& r = **rec;
  const std::int64_t class_id = r.class_id, version = r.version, steps_done = r.steps_done;
  const std::string &personal_id = r.personal_id, &state = r.state;
  const std::vector<std::string>& steps = chain_.record_steps(r.level);
  const config::Step* step_def = chain_.step(field);
  std::int64_t step = chain_.position(r.level, field);
  if (!step_def || step < 0)
    return make_error(Errc::invalid_argument, "record " + std::to_string(record_id) + " takes no " + field + " signature in this school's chain");
  if (state == "final" || state == "superseded" || state == "failed")
    return make_error(Errc::invalid_argument, "record " + std::to_string(record_id) + " is " + state + ": nothing more to sign");
  if (steps_done > step)
    return make_error(Errc::invalid_argument, "record " + std::to_string(record_id) + " already has the " + field + " signature");
  if (step == 0)
    if (std::string why = sheets_waiting(class_id); !why.empty()) return make_error(Errc::forbidden, why);
  if (steps_done < step)
    return make_error(Errc::invalid_argument, "record " + std::to_string(record_id) + " needs the " + steps[static_cast<std::size_t>(steps_done)] +
                                                  " signature before " + field);

  std::string out_rel = record_path(class_id, personal_id, version, static_cast<std::size_t>(step + 1));
  std::string out_abs = abs(out_rel);
  Bytes signed_pdf;
  struct stat st {};
  bool adopted = false;
  // The record's current file, checked against the hash the store holds.
  auto in = read_file(abs(r.pdf_path));
  if (!in) return make_error(Errc::bad_pdf, "cannot read record " + std::to_string(record_id) + "'s PDF: " + in.error().message);
  if (sha256_hex(*in) != r.pdf_sha256)
    return make_error(Errc::bad_pdf, "record " + std::to_string(record_id) + "'s PDF does not match the hash in the store; restore it from a backup");
  if (::stat(out_abs.c_str(), &st) == 0) {
    // A file a run wrote before it stopped (files are renamed into place whole). Taken only when it is
    // exactly the current file plus this field's signature by this key; anything else is moved aside.
    auto b = read_file(out_abs);
    if (!b) return b.error();
    auto ref = key_ref(bk);
    if (!ref) return ref.error();
    if (adoptable(*in, *b, field, ref->certificate)) {
      signed_pdf = std::move(*b);
      adopted = true;
      spdlog::info("RECORD_SIGNATURE_ADOPTED record={} field={} path={}", record_id, field, out_rel);
    } else {
      std::string aside = out_abs + ".orphan-" + std::to_string(std::time(nullptr));
      if (std::rename(out_abs.c_str(), aside.c_str()) != 0)
        return make_error(Errc::io, "cannot move the stale file " + out_rel + " aside: " + std::strerror(errno));
      spdlog::warn("RECORD_STALE_FILE_MOVED record={} field={} path={}", record_id, field, aside);
    }
  }
  if (!adopted) {
    auto out = sign_bytes(*in, *step_def, step == 0, bk, pin, caller, batch, confirm_pin_risk);
    if (!out) return out.error();
    signed_pdf = std::move(*out);
    if (auto d = make_dirs(std::filesystem::path(out_abs).parent_path().string()); !d) return d;
    if (auto w = write_file_atomic(out_abs, signed_pdf, 0640); !w) return w;
  }
  std::string sha = sha256_hex(signed_pdf);
  bool final = step + 1 == static_cast<std::int64_t>(steps.size());
  std::string at = now_iso();
  return store_.transaction([&](store::Tx& tx) -> Status {
    // The record may not have moved meanwhile (it was reserved); Records::add_signature checks anyway.
    store::NewSignature ns;
    ns.record_id = record_id, ns.step = step, ns.user_id = caller.user_id, ns.key_id = bk.id, ns.job_id = job_id;
    ns.field = field, ns.pdf_path = out_rel, ns.pdf_sha256 = sha, ns.at = at, ns.final = final;
    if (auto e = store::Records::add_signature(tx, ns); !e) return e;
    json::object d{{"record_id", record_id}, {"personal_id", personal_id}, {"version", version}, {"field", field},
                   {"key_id", bk.id},        {"pdf_sha256", sha},          {"final", final}};
    if (job_id) d["job_id"] = job_id;
    if (adopted) d["recovered"] = true;
    if (auto a = tx.audit(caller.actor(), "record.sign", json::serialize(d)); !a) return a.error();
    return {};
  });
}

}  // namespace hocba::workflow
