#include "twofold/keystore/tpm.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace twofold::keystore {
namespace {

constexpr std::size_t kMaxSealedData = 128;  // TPM2B_SENSITIVE_DATA's capacity
constexpr std::size_t kPcrsPerRead = 8;      // TPM2_PCR_Read returns at most 8 digests

template <typename T>
struct EsysFree {
  void operator()(T* p) const { Esys_Free(p); }
};
template <typename T>
using EsysPtr = std::unique_ptr<T, EsysFree<T>>;

void check(TSS2_RC rc, std::string_view what) {
  if (rc != TSS2_RC_SUCCESS) throw TpmError(what, rc);
}

// A TPM2B's size and bytes from a secret; an empty secret (the empty authorization a fresh
// TPM has) copies nothing, since memcpy from an empty buffer's null data is undefined.
template <typename B>
void fill_tpm2b(B& out, const Secret& value) {
  if (value.size() > sizeof out.buffer) throw std::invalid_argument("value too long for a TPM buffer");
  out.size = static_cast<UINT16>(value.size());
  if (!value.empty()) std::memcpy(out.buffer, value.bytes().data(), value.size());
}

// The TPM's own response code without the TSS layer or the handle/session/parameter index,
// so AUTH_FAIL on session 1 and AUTH_FAIL on session 2 compare equal.
TSS2_RC tpm_code(TSS2_RC rc) {
  const TSS2_RC layer = rc & TSS2_RC_LAYER_MASK;
  if (layer != TSS2_TPM_RC_LAYER && layer != TSS2_RESMGR_TPM_RC_LAYER) return rc;
  rc &= ~TSS2_RC_LAYER_MASK;
  if (rc & TPM2_RC_FMT1) return rc & (TPM2_RC_FMT1 | 0x3F);
  return rc;
}

// An ESYS object handle: transient objects and sessions are flushed from the TPM, persistent
// ones only forgotten by ESYS.
class Handle {
 public:
  enum class Kind { flush, close };
  Handle(ESYS_CONTEXT* ctx, ESYS_TR tr, Kind kind) : ctx_(ctx), tr_(tr), kind_(kind) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (tr_ == ESYS_TR_NONE) return;
    if (kind_ == Kind::flush) Esys_FlushContext(ctx_, tr_);
    else Esys_TR_Close(ctx_, &tr_);
  }
  ESYS_TR get() const { return tr_; }
  // A session the TPM closed itself (continueSession clear, command succeeded).
  void forget() {
    Esys_TR_Close(ctx_, &tr_);
    tr_ = ESYS_TR_NONE;
  }

 private:
  ESYS_CONTEXT* ctx_;
  ESYS_TR tr_;
  Kind kind_;
};

TPM2B_PUBLIC ecc_storage_key_template() {
  TPM2B_PUBLIC t{};
  t.publicArea.type = TPM2_ALG_ECC;
  t.publicArea.nameAlg = TPM2_ALG_SHA256;
  t.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                  TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                  TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED |
                                  TPMA_OBJECT_DECRYPT;
  auto& ecc = t.publicArea.parameters.eccDetail;
  ecc.symmetric.algorithm = TPM2_ALG_AES;
  ecc.symmetric.keyBits.aes = 128;
  ecc.symmetric.mode.aes = TPM2_ALG_CFB;
  ecc.scheme.scheme = TPM2_ALG_NULL;
  ecc.curveID = TPM2_ECC_NIST_P256;
  ecc.kdf.scheme = TPM2_ALG_NULL;
  // The TCG's SRK template: a zero-filled unique field of the curve's size.
  t.publicArea.unique.ecc.x.size = 32;
  t.publicArea.unique.ecc.y.size = 32;
  return t;
}

TPML_PCR_SELECTION pcr_selection(const std::vector<unsigned>& indices) {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  for (unsigned i : indices) {
    sel.pcrSelections[0].pcrSelect[i / 8] =
        static_cast<BYTE>(sel.pcrSelections[0].pcrSelect[i / 8] | (1u << (i % 8)));
  }
  return sel;
}

template <typename T, typename Fn>
Bytes marshal(const T& value, Fn fn) {
  Bytes buf(sizeof(T));
  size_t off = 0;
  check(fn(&value, buf.data(), buf.size(), &off), "marshalling a TPM structure");
  buf.resize(off);
  return buf;
}

}  // namespace

TpmError::TpmError(std::string_view what, std::uint32_t rc)
    : std::runtime_error(fmt::format("TPM: {}: {} (0x{:x})", what, Tss2_RC_Decode(rc), rc)),
      rc_(rc) {}

std::optional<PcrSelection> PcrSelection::from(std::vector<unsigned> indices) {
  if (indices.empty()) return std::nullopt;
  std::sort(indices.begin(), indices.end());
  if (std::adjacent_find(indices.begin(), indices.end()) != indices.end()) return std::nullopt;
  if (indices.back() > kMaxPcr) return std::nullopt;
  PcrSelection s;
  s.indices_ = std::move(indices);
  return s;
}

std::string PcrSelection::to_string() const { return fmt::format("{}", fmt::join(indices_, ",")); }

Secret pin_auth_value(const Secret& pin) {
  std::array<std::uint8_t, 32> md{};
  unsigned len = 0;
  if (EVP_Digest(pin.bytes().data(), pin.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != md.size()) {
    throw std::runtime_error("SHA-256 of the PIN failed");
  }
  Secret s(md);
  OPENSSL_cleanse(md.data(), md.size());
  return s;
}

struct Tpm::Context {
  TSS2_TCTI_CONTEXT* tcti = nullptr;
  ESYS_CONTEXT* esys = nullptr;
  ~Context() {
    if (esys) Esys_Finalize(&esys);
    if (tcti) Tss2_TctiLdr_Finalize(&tcti);
  }

  std::unique_ptr<Handle> storage_root() {
    TPM2B_SENSITIVE_CREATE sens{};
    TPM2B_PUBLIC tmpl = ecc_storage_key_template();
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION creation_pcrs{};
    ESYS_TR handle = ESYS_TR_NONE;
    TPM2B_PUBLIC* pub = nullptr;
    TPM2B_CREATION_DATA* cd = nullptr;
    TPM2B_DIGEST* ch = nullptr;
    TPMT_TK_CREATION* ct = nullptr;
    const TSS2_RC rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                          ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcrs,
                                          &handle, &pub, &cd, &ch, &ct);
    Esys_Free(pub);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(ct);
    check(rc, "creating the storage root key");
    return std::make_unique<Handle>(esys, handle, Handle::Kind::flush);
  }

  std::unique_ptr<Handle> persistent(std::uint32_t tpm_handle, TSS2_RC* rc_out) {
    ESYS_TR tr = ESYS_TR_NONE;
    const TSS2_RC rc =
        Esys_TR_FromTPMPublic(esys, tpm_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &tr);
    *rc_out = rc;
    if (rc != TSS2_RC_SUCCESS) return nullptr;
    return std::make_unique<Handle>(esys, tr, Handle::Kind::close);
  }

  std::unique_ptr<Handle> revocable() {
    TSS2_RC rc = 0;
    auto h = persistent(kRevocableKeyHandle, &rc);
    if (!h) check(rc, "opening the revocable storage key");
    return h;
  }

  std::unique_ptr<Handle> parent(Parent p) {
    return p == Parent::storage_root ? storage_root() : revocable();
  }

  // A session salted to `key` (its salt is encrypted to the key), AES-128-CFB for the first
  // command and/or response parameter.
  std::unique_ptr<Handle> session(ESYS_TR key, TPM2_SE type, TPMA_SESSION attrs) {
    TPMT_SYM_DEF sym{};
    sym.algorithm = TPM2_ALG_AES;
    sym.keyBits.aes = 128;
    sym.mode.aes = TPM2_ALG_CFB;
    ESYS_TR s = ESYS_TR_NONE;
    check(Esys_StartAuthSession(esys, key, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                nullptr, type, &sym, TPM2_ALG_SHA256, &s),
          "starting a session");
    auto h = std::make_unique<Handle>(esys, s, Handle::Kind::flush);
    // continueSession: the Handle flushes it, whatever the command's outcome.
    check(Esys_TRSess_SetAttributes(esys, s, attrs | TPMA_SESSION_CONTINUESESSION, 0xff),
          "setting session attributes");
    return h;
  }

  TPM2B_DIGEST policy_digest(const PcrSelection& pcrs, bool with_pin) {
    TPMT_SYM_DEF none{};
    none.algorithm = TPM2_ALG_NULL;
    ESYS_TR trial = ESYS_TR_NONE;
    check(Esys_StartAuthSession(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                ESYS_TR_NONE, nullptr, TPM2_SE_TRIAL, &none, TPM2_ALG_SHA256,
                                &trial),
          "starting a trial session");
    Handle guard(esys, trial, Handle::Kind::flush);
    apply_policy(trial, pcrs, with_pin);
    TPM2B_DIGEST* d = nullptr;
    check(Esys_PolicyGetDigest(esys, trial, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &d),
          "reading the policy digest");
    EsysPtr<TPM2B_DIGEST> digest(d);
    return *digest;
  }

  void apply_policy(ESYS_TR session, const PcrSelection& pcrs, bool with_pin) {
    // An empty pcrDigest: the TPM takes the PCRs' values at the time of the command.
    TPM2B_DIGEST empty{};
    TPML_PCR_SELECTION sel = pcr_selection(pcrs.indices());
    check(Esys_PolicyPCR(esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &empty, &sel),
          "PolicyPCR");
    if (with_pin) {
      check(Esys_PolicyAuthValue(esys, session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE),
            "PolicyAuthValue");
    }
  }
};

Tpm::Tpm(const std::string& tcti) : ctx_(std::make_unique<Context>()) {
  check(Tss2_TctiLdr_Initialize(tcti.c_str(), &ctx_->tcti), "opening TCTI '" + tcti + "'");
  check(Esys_Initialize(&ctx_->esys, ctx_->tcti, nullptr), "initialising ESYS");
}

Tpm::~Tpm() = default;

void Tpm::extend(unsigned pcr, const Digest& digest) {
  if (pcr > PcrSelection::kMaxPcr) throw std::invalid_argument("PCR index out of range");
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = TPM2_ALG_SHA256;
  std::memcpy(values.digests[0].digest.sha256, digest.data(), digest.size());
  check(Esys_PCR_Extend(ctx_->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                        ESYS_TR_NONE, &values),
        fmt::format("extending PCR {}", pcr));
}

void Tpm::orderly_shutdown() {
  check(Esys_Shutdown(ctx_->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_SU_CLEAR), "TPM2_Shutdown");
}

PcrValues Tpm::read(const PcrSelection& pcrs) {
  PcrValues out;
  const auto& all = pcrs.indices();
  for (std::size_t start = 0; start < all.size(); start += kPcrsPerRead) {
    const std::vector<unsigned> chunk(
        all.begin() + static_cast<std::ptrdiff_t>(start),
        all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), start + kPcrsPerRead)));
    TPML_PCR_SELECTION sel = pcr_selection(chunk);
    UINT32 counter = 0;
    TPML_PCR_SELECTION* sel_out = nullptr;
    TPML_DIGEST* values = nullptr;
    check(Esys_PCR_Read(ctx_->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel, &counter,
                        &sel_out, &values),
          "reading PCRs");
    EsysPtr<TPML_PCR_SELECTION> sel_guard(sel_out);
    EsysPtr<TPML_DIGEST> values_guard(values);
    if (values->count != chunk.size()) {
      throw std::runtime_error(fmt::format("TPM returned {} PCR values for {} asked",
                                           values->count, chunk.size()));
    }
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      if (values->digests[i].size != 32) throw std::runtime_error("TPM returned a short PCR");
      Digest d{};
      std::memcpy(d.data(), values->digests[i].buffer, d.size());
      out[chunk[i]] = d;
    }
  }
  return out;
}

bool Tpm::has_revocable_key() {
  TSS2_RC rc = 0;
  auto h = ctx_->persistent(kRevocableKeyHandle, &rc);
  if (h) return true;
  if (tpm_code(rc) == TPM2_RC_HANDLE) return false;
  check(rc, "looking for the revocable storage key");
  return false;
}

void Tpm::create_revocable_key() {
  if (has_revocable_key()) return;
  auto srk = ctx_->storage_root();
  TPM2B_SENSITIVE_CREATE sens{};
  TPM2B_PUBLIC tmpl = ecc_storage_key_template();
  tmpl.publicArea.unique.ecc.x.size = 0;
  tmpl.publicArea.unique.ecc.y.size = 0;
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcrs{};
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* cd = nullptr;
  TPM2B_DIGEST* ch = nullptr;
  TPMT_TK_CREATION* ct = nullptr;
  const TSS2_RC rc = Esys_Create(ctx_->esys, srk->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &sens, &tmpl, &outside, &creation_pcrs, &priv, &pub,
                                 &cd, &ch, &ct);
  EsysPtr<TPM2B_PRIVATE> priv_guard(priv);
  EsysPtr<TPM2B_PUBLIC> pub_guard(pub);
  Esys_Free(cd);
  Esys_Free(ch);
  Esys_Free(ct);
  check(rc, "creating the revocable storage key");
  ESYS_TR loaded = ESYS_TR_NONE;
  check(Esys_Load(ctx_->esys, srk->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub,
                  &loaded),
        "loading the revocable storage key");
  Handle loaded_guard(ctx_->esys, loaded, Handle::Kind::flush);
  // The private blob is dropped here on purpose: the persistent copy is the only one.
  OPENSSL_cleanse(priv->buffer, priv->size);
  ESYS_TR persistent = ESYS_TR_NONE;
  check(Esys_EvictControl(ctx_->esys, ESYS_TR_RH_OWNER, loaded, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, kRevocableKeyHandle, &persistent),
        "making the revocable storage key persistent");
  Esys_TR_Close(ctx_->esys, &persistent);
}

void Tpm::evict_revocable_key() {
  TSS2_RC rc = 0;
  auto h = ctx_->persistent(kRevocableKeyHandle, &rc);
  if (!h) {
    if (tpm_code(rc) == TPM2_RC_HANDLE) return;
    check(rc, "looking for the revocable storage key");
  }
  ESYS_TR out = ESYS_TR_NONE;
  check(Esys_EvictControl(ctx_->esys, ESYS_TR_RH_OWNER, h->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, kRevocableKeyHandle, &out),
        "evicting the revocable storage key");
  h->forget();  // EvictControl invalidated the ESYS object
}

Bytes Tpm::parent_name(Parent parent) {
  auto h = ctx_->parent(parent);
  TPM2B_NAME* name = nullptr;
  check(Esys_TR_GetName(ctx_->esys, h->get(), &name), "reading the parent key's name");
  EsysPtr<TPM2B_NAME> guard(name);
  return Bytes(name->name, name->name + name->size);
}

SealedObject Tpm::seal(Parent parent, const Secret& secret, const PcrSelection& pcrs,
                       const Secret* pin) {
  if (secret.empty() || secret.size() > kMaxSealedData) {
    throw std::invalid_argument("a sealed secret holds 1 to 128 bytes");
  }
  auto key = ctx_->parent(parent);
  const TPM2B_DIGEST policy = ctx_->policy_digest(pcrs, pin != nullptr);

  TPM2B_SENSITIVE_CREATE sens{};
  if (pin) {
    const Secret auth = pin_auth_value(*pin);
    fill_tpm2b(sens.sensitive.userAuth, auth);
  }
  fill_tpm2b(sens.sensitive.data, secret);

  TPM2B_PUBLIC tmpl{};
  tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  // No userWithAuth: only the policy releases it. adminWithPolicy: no authValue-only admin
  // path (ObjectChangeAuth) that would test PINs outside the PCR policy. DA-protected when a
  // PIN guards it.
  tmpl.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                     TPMA_OBJECT_ADMINWITHPOLICY |
                                     (pin ? TPMA_OBJECT{0} : TPMA_OBJECT_NODA);
  tmpl.publicArea.authPolicy = policy;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL;

  auto s = ctx_->session(key->get(), TPM2_SE_HMAC, TPMA_SESSION_DECRYPT);
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION creation_pcrs{};
  TPM2B_PRIVATE* priv = nullptr;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* cd = nullptr;
  TPM2B_DIGEST* ch = nullptr;
  TPMT_TK_CREATION* ct = nullptr;
  const TSS2_RC rc = Esys_Create(ctx_->esys, key->get(), s->get(), ESYS_TR_NONE, ESYS_TR_NONE,
                                 &sens, &tmpl, &outside, &creation_pcrs, &priv, &pub, &cd, &ch,
                                 &ct);
  OPENSSL_cleanse(&sens, sizeof sens);
  EsysPtr<TPM2B_PRIVATE> priv_guard(priv);
  EsysPtr<TPM2B_PUBLIC> pub_guard(pub);
  Esys_Free(cd);
  Esys_Free(ch);
  Esys_Free(ct);
  check(rc, "sealing");
  return SealedObject{marshal(*pub, Tss2_MU_TPM2B_PUBLIC_Marshal),
                      marshal(*priv, Tss2_MU_TPM2B_PRIVATE_Marshal)};
}

UnsealResult Tpm::unseal(Parent parent, const SealedObject& object, const PcrSelection& pcrs,
                         const Secret* pin) {
  if (parent == Parent::revocable && !has_revocable_key()) return {UnsealStatus::no_parent, {}};
  auto key = ctx_->parent(parent);
  TPM2B_PUBLIC pub{};
  TPM2B_PRIVATE priv{};
  size_t off = 0;
  check(Tss2_MU_TPM2B_PUBLIC_Unmarshal(object.public_area.data(), object.public_area.size(), &off,
                                       &pub),
        "reading the sealed object's public area");
  off = 0;
  check(Tss2_MU_TPM2B_PRIVATE_Unmarshal(object.private_area.data(), object.private_area.size(),
                                        &off, &priv),
        "reading the sealed object's private area");
  ESYS_TR loaded = ESYS_TR_NONE;
  check(Esys_Load(ctx_->esys, key->get(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv,
                  &pub, &loaded),
        "loading the sealed object");
  Handle obj(ctx_->esys, loaded, Handle::Kind::flush);

  auto s = ctx_->session(key->get(), TPM2_SE_POLICY, TPMA_SESSION_ENCRYPT);
  ctx_->apply_policy(s->get(), pcrs, pin != nullptr);
  if (pin) {
    const Secret auth = pin_auth_value(*pin);
    TPM2B_AUTH a{};
    fill_tpm2b(a, auth);
    const TSS2_RC rc = Esys_TR_SetAuth(ctx_->esys, loaded, &a);
    OPENSSL_cleanse(&a, sizeof a);
    check(rc, "setting the PIN");
  }
  TPM2B_SENSITIVE_DATA* out = nullptr;
  const TSS2_RC rc = Esys_Unseal(ctx_->esys, loaded, s->get(), ESYS_TR_NONE, ESYS_TR_NONE, &out);
  if (rc == TSS2_RC_SUCCESS) {
    EsysPtr<TPM2B_SENSITIVE_DATA> guard(out);
    Secret secret(std::span<const std::uint8_t>(out->buffer, out->size));
    OPENSSL_cleanse(out->buffer, out->size);
    return {UnsealStatus::ok, std::move(secret)};
  }
  switch (tpm_code(rc)) {
    case TPM2_RC_AUTH_FAIL: return {UnsealStatus::wrong_pin, {}};
    case TPM2_RC_POLICY_FAIL: return {UnsealStatus::measurements_changed, {}};
    case TPM2_RC_LOCKOUT: return {UnsealStatus::locked_out, {}};
    default: check(rc, "unsealing");
  }
  return {UnsealStatus::measurements_changed, {}};
}

namespace {
template <typename Fn>
void tpm_properties(ESYS_CONTEXT* esys, TPM2_PT first, UINT32 count, Fn&& each) {
  TPMI_YES_NO more = 0;
  TPMS_CAPABILITY_DATA* data = nullptr;
  check(Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                           TPM2_CAP_TPM_PROPERTIES, first, count, &more, &data),
        "reading TPM properties");
  EsysPtr<TPMS_CAPABILITY_DATA> guard(data);
  const auto& props = data->data.tpmProperties;
  for (UINT32 i = 0; i < props.count && i < TPM2_MAX_TPM_PROPERTIES; ++i) {
    each(props.tpmProperty[i].property, props.tpmProperty[i].value);
  }
}
}  // namespace

bool Tpm::lockout_auth_set() {
  UINT32 permanent = 0;
  tpm_properties(ctx_->esys, TPM2_PT_PERMANENT, 1, [&](TPM2_PT p, UINT32 v) {
    if (p == TPM2_PT_PERMANENT) permanent = v;
  });
  return (permanent & TPMA_PERMANENT_LOCKOUTAUTHSET) != 0;
}

LockoutState Tpm::lockout_state() {
  LockoutState st{};
  UINT32 permanent = 0;
  tpm_properties(ctx_->esys, TPM2_PT_PERMANENT, 1, [&](TPM2_PT p, UINT32 v) {
    if (p == TPM2_PT_PERMANENT) permanent = v;
  });
  auto property = [&](TPM2_PT first, UINT32 count, auto&& each) {
    tpm_properties(ctx_->esys, first, count, each);
  };
  auto permanent_bits = [&] { return permanent; };
  st.in_lockout = (permanent_bits() & TPMA_PERMANENT_INLOCKOUT) != 0;
  property(TPM2_PT_LOCKOUT_COUNTER, 3, [&](TPM2_PT p, UINT32 v) {
    if (p == TPM2_PT_LOCKOUT_COUNTER) st.failures = v;
    if (p == TPM2_PT_MAX_AUTH_FAIL) st.max_tries = v;
    if (p == TPM2_PT_LOCKOUT_INTERVAL) st.recovery_seconds = v;
  });
  return st;
}

namespace {
void set_auth(ESYS_CONTEXT* esys, ESYS_TR tr, const Secret& value) {
  TPM2B_AUTH a{};
  fill_tpm2b(a, value);
  const TSS2_RC rc = Esys_TR_SetAuth(esys, tr, &a);
  OPENSSL_cleanse(&a, sizeof a);
  check(rc, "setting a hierarchy's authorization");
}
}  // namespace

void Tpm::set_lockout_auth(const Secret& current, const Secret& next) {
  auto srk = ctx_->storage_root();
  set_auth(ctx_->esys, ESYS_TR_RH_LOCKOUT, current);
  auto s = ctx_->session(srk->get(), TPM2_SE_HMAC, TPMA_SESSION_DECRYPT);
  TPM2B_AUTH a{};
  fill_tpm2b(a, next);
  const TSS2_RC rc = Esys_HierarchyChangeAuth(ctx_->esys, ESYS_TR_RH_LOCKOUT, s->get(),
                                              ESYS_TR_NONE, ESYS_TR_NONE, &a);
  OPENSSL_cleanse(&a, sizeof a);
  check(rc, "changing the lockout authorization");
}

void Tpm::set_dictionary_parameters(const Secret& lockout_auth, std::uint32_t max_tries,
                                    std::uint32_t recovery_seconds,
                                    std::uint32_t lockout_recovery_seconds) {
  auto srk = ctx_->storage_root();
  set_auth(ctx_->esys, ESYS_TR_RH_LOCKOUT, lockout_auth);
  auto s = ctx_->session(srk->get(), TPM2_SE_HMAC, TPMA_SESSION_CONTINUESESSION);
  check(Esys_DictionaryAttackParameters(ctx_->esys, ESYS_TR_RH_LOCKOUT, s->get(), ESYS_TR_NONE,
                                        ESYS_TR_NONE, max_tries, recovery_seconds,
                                        lockout_recovery_seconds),
        "setting the dictionary-attack parameters");
}

void Tpm::reset_lockout(const Secret& lockout_auth) {
  auto srk = ctx_->storage_root();
  set_auth(ctx_->esys, ESYS_TR_RH_LOCKOUT, lockout_auth);
  auto s = ctx_->session(srk->get(), TPM2_SE_HMAC, TPMA_SESSION_CONTINUESESSION);
  check(Esys_DictionaryAttackLockReset(ctx_->esys, ESYS_TR_RH_LOCKOUT, s->get(), ESYS_TR_NONE,
                                       ESYS_TR_NONE),
        "resetting the dictionary-attack counter");
}

}  // namespace twofold::keystore
