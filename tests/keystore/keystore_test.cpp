// The key logic against a real (software) TPM: sealing to measurements and a PIN, the retry
// limit and crypto-erase, tamper, PIN change and rotation without losing the volume key.
#include "swtpm_fixture.h"
#include "twofold/keystore/keystore.h"

#include <fstream>
#include <sstream>

namespace twofold::keystore {
namespace {

using testing::digest_of;
using testing::Swtpm;

PcrSelection pcrs(std::vector<unsigned> v) { return *PcrSelection::from(std::move(v)); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TSS2_LOG", "all+none", 1);
    tpm_ = std::make_unique<Tpm>(swtpm_.tcti());
    // What firmware and dom0 would have measured on this boot.
    tpm_->extend(8, digest_of('x'));
    tpm_->extend(11, digest_of('s'));
    volume_ = swtpm_.dir() + "/data.img";
  }
  void TearDown() override { tpm_.reset(); }

  SecureVolumeConfig config(std::uint32_t retry_limit = 3) {
    {
      std::ofstream(volume_, std::ios::app).close();
      std::filesystem::resize_file(volume_, 20u << 20);
    }
    return SecureVolumeConfig{swtpm_.dir() + "/secure-volume.sealed", volume_, "twofold-test",
                              pcrs({8, 11}), retry_limit, KdfCost{0, 32768, 1, 4}};
  }
  Dom0Secret dom0() {
    return Dom0Secret::open_or_create(*tpm_, swtpm_.dir() + "/dom0.sealed", pcrs({8}));
  }

  Swtpm swtpm_;
  std::unique_ptr<Tpm> tpm_;
  std::string volume_;
};

TEST(PcrSelectionTest, RejectsRepeatsOutOfRangeAndEmpty) {
  EXPECT_FALSE(PcrSelection::from({}).has_value());
  EXPECT_FALSE(PcrSelection::from({8, 8}).has_value());
  EXPECT_FALSE(PcrSelection::from({24}).has_value());
  EXPECT_EQ(PcrSelection::from({11, 8, 9})->to_string(), "8,9,11");
}

TEST_F(KeystoreTest, SealedToMeasurementsOnly) {
  const Secret secret = Secret::from_string("dom0 secret bytes");
  const auto sel = pcrs({8, 11});
  const auto obj = tpm_->seal(Parent::storage_root, secret, sel, nullptr);
  auto r = tpm_->unseal(Parent::storage_root, obj, sel, nullptr);
  ASSERT_EQ(r.status, UnsealStatus::ok);
  EXPECT_EQ(r.secret.view(), "dom0 secret bytes");
  tpm_->extend(11, digest_of('!'));  // a changed image
  EXPECT_EQ(tpm_->unseal(Parent::storage_root, obj, sel, nullptr).status,
            UnsealStatus::measurements_changed);
}

TEST_F(KeystoreTest, Dom0SecretSurvivesTpmRestartAndIsStable) {
  const Secret a = dom0().derive("label");
  tpm_.reset();
  swtpm_.restart();  // a reboot: PCRs reset, so measure again as the boot would
  tpm_ = std::make_unique<Tpm>(swtpm_.tcti());
  tpm_->extend(8, digest_of('x'));
  const Secret b = dom0().derive("label");
  EXPECT_EQ(a.view(), b.view());
  EXPECT_NE(dom0().derive("other").view(), a.view());
}

TEST_F(KeystoreTest, Dom0SecretRefusedAfterDom0Changed) {
  (void)dom0();
  tpm_.reset();
  swtpm_.restart();
  tpm_ = std::make_unique<Tpm>(swtpm_.tcti());
  tpm_->extend(8, digest_of('Y'));  // another hypervisor or dom0
  EXPECT_THROW(dom0(), std::runtime_error);
}

TEST_F(KeystoreTest, ProvisionThenRightPinOpensWrongPinCountsDown) {
  const auto d = dom0();
  SecureVolume vol(*tpm_, d, config(3));
  EXPECT_FALSE(vol.status().provisioned);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  EXPECT_TRUE(vol.status().provisioned);
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::ok);
  auto r = vol.verify(Secret::from_string("1111"));
  EXPECT_EQ(r.outcome, Outcome::wrong_pin);
  EXPECT_EQ(r.attempts_left, 2u);
  // A right PIN resets the count: failures must come in a row to reach the limit.
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::ok);
  EXPECT_EQ(vol.status().attempts_left, 3u);
  EXPECT_THROW(vol.provision(Secret::from_string("2468")), std::runtime_error);
}

// A TPM charges a disorderly shutdown (power cut) one dictionary-attack failure when a
// DA-protected object was used since the last orderly one; dom0's power-off sends
// TPM2_Shutdown, so a clean reboot after an unlock costs the officer no try.
TEST_F(KeystoreTest, OrderlyShutdownKeepsTheTriesAPowerCutCostsOne) {
  const auto reboot = [&](bool orderly) {
    if (orderly) tpm_->orderly_shutdown();
    tpm_.reset();
    swtpm_.restart();
    tpm_ = std::make_unique<Tpm>(swtpm_.tcti());
    tpm_->extend(8, digest_of('x'));
    tpm_->extend(11, digest_of('s'));
  };
  const auto wrong_pin_then_tries = [&] {
    const auto d = dom0();
    return SecureVolume(*tpm_, d, config(5)).verify(Secret::from_string("1111")).attempts_left;
  };
  const auto tries = [&] {
    const auto d = dom0();
    return SecureVolume(*tpm_, d, config(5)).status().attempts_left;
  };
  {
    const auto d = dom0();
    ASSERT_EQ(SecureVolume(*tpm_, d, config(5)).provision(Secret::from_string("2468")).outcome, Outcome::ok);
  }
  EXPECT_EQ(wrong_pin_then_tries(), 4u);
  reboot(true);
  EXPECT_EQ(tries(), 4u);
  EXPECT_EQ(wrong_pin_then_tries(), 3u);
  reboot(false);
  EXPECT_EQ(tries(), 2u);
}

TEST_F(KeystoreTest, RetryLimitCryptoErasesAndCopiesDoNotHelp) {
  const auto d = dom0();
  auto cfg = config(3);
  SecureVolume vol(*tpm_, d, cfg);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  const std::string blob_copy = read_file(cfg.blob_path);
  EXPECT_EQ(vol.verify(Secret::from_string("0000")).outcome, Outcome::wrong_pin);
  EXPECT_EQ(vol.verify(Secret::from_string("0001")).outcome, Outcome::wrong_pin);
  const auto last = vol.verify(Secret::from_string("0002"));
  EXPECT_EQ(last.outcome, Outcome::wiped);
  EXPECT_FALSE(tpm_->has_revocable_key());
  EXPECT_FALSE(std::filesystem::exists(cfg.blob_path));
  EXPECT_EQ(LuksVolume(cfg.volume_path).active_keyslots(), 0);
  // The attacker kept a copy of the sealed file: with the key evicted it is dead.
  std::ofstream(cfg.blob_path) << blob_copy;
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::not_provisioned);
  // A fresh provisioning works again after a wipe (the organisation re-enrols the device).
  std::filesystem::remove(cfg.blob_path);
  tpm_->reset_lockout(d.derive("twofold tpm lockout authorization v1"));
  EXPECT_EQ(vol.provision(Secret::from_string("1357")).outcome, Outcome::ok);
  EXPECT_EQ(vol.verify(Secret::from_string("1357")).outcome, Outcome::ok);
}

TEST_F(KeystoreTest, ChangedMeasurementRefusesWithoutCostingATry) {
  const auto d = dom0();
  SecureVolume vol(*tpm_, d, config(3));
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  tpm_->extend(11, digest_of('m'));  // the secure image was modified
  const auto r = vol.verify(Secret::from_string("2468"));
  EXPECT_EQ(r.outcome, Outcome::measurements_changed);
  EXPECT_EQ(r.changed_pcrs, std::vector<unsigned>{11});
  EXPECT_EQ(tpm_->lockout_state().failures, 0u);
  EXPECT_EQ(vol.status().changed_pcrs, std::vector<unsigned>{11});
}

TEST_F(KeystoreTest, ForgedPcrValuesInTheFileDoNotFoolTheTpm) {
  const auto d = dom0();
  auto cfg = config(3);
  SecureVolume vol(*tpm_, d, cfg);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  tpm_->extend(11, digest_of('m'));
  // The attacker rewrites the recorded values to the current (tampered) ones.
  auto blob = std::get<SealedBlob>(parse_sealed_blob(read_file(cfg.blob_path)));
  blob.pcr_values = tpm_->read(blob.pcrs);
  write_file_durably(cfg.blob_path, serialize_sealed_blob(blob));
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::measurements_changed);
}

TEST_F(KeystoreTest, SubstitutedRevocableKeyIsNoticed) {
  const auto d = dom0();
  SecureVolume vol(*tpm_, d, config(3));
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  tpm_->evict_revocable_key();
  tpm_->create_revocable_key();
  const auto r = vol.verify(Secret::from_string("2468"));
  EXPECT_EQ(r.outcome, Outcome::measurements_changed);
  EXPECT_NE(r.detail.find("revocable key"), std::string::npos);
}

TEST_F(KeystoreTest, PinChangeKeepsTheVolumeKeyOldPinStopsWorking) {
  const auto d = dom0();
  auto cfg = config(5);
  SecureVolume vol(*tpm_, d, cfg);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  EXPECT_EQ(vol.change_pin(Secret::from_string("2468"), Secret::from_string("97531")).outcome,
            Outcome::ok);
  EXPECT_EQ(vol.verify(Secret::from_string("97531")).outcome, Outcome::ok);
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::wrong_pin);
  EXPECT_EQ(LuksVolume(cfg.volume_path).active_keyslots(), 1);
  EXPECT_EQ(vol.change_pin(Secret::from_string("bad"), Secret::from_string("1")).outcome,
            Outcome::wrong_pin);
}

TEST_F(KeystoreTest, RotationRetiresTheOldSecret) {
  const auto d = dom0();
  auto cfg = config(5);
  SecureVolume vol(*tpm_, d, cfg);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  const std::string before = read_file(cfg.blob_path);
  EXPECT_EQ(vol.rotate(Secret::from_string("2468")).outcome, Outcome::ok);
  EXPECT_NE(read_file(cfg.blob_path), before);
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::ok);
  EXPECT_EQ(LuksVolume(cfg.volume_path).active_keyslots(), 1);
  // The old sealed file still unseals (same key, same PIN) but its keyslot is gone.
  std::ofstream(cfg.blob_path) << before;
  EXPECT_EQ(vol.verify(Secret::from_string("2468")).outcome, Outcome::not_provisioned);
}

TEST_F(KeystoreTest, PinsOfZeroOrTooManyBytesAreRefusedBeforeTheTpm) {
  const auto d = dom0();
  SecureVolume vol(*tpm_, d, config(3));
  EXPECT_EQ(vol.provision(Secret{}).outcome, Outcome::invalid_pin);
  EXPECT_EQ(vol.provision(Secret::from_string(std::string(257, '1'))).outcome,
            Outcome::invalid_pin);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  EXPECT_EQ(vol.verify(Secret{}).outcome, Outcome::invalid_pin);
  EXPECT_EQ(tpm_->lockout_state().failures, 0u);
}

TEST_F(KeystoreTest, GarbageSealedFileIsReportedNotTrusted) {
  const auto d = dom0();
  auto cfg = config(3);
  SecureVolume vol(*tpm_, d, cfg);
  ASSERT_EQ(vol.provision(Secret::from_string("2468")).outcome, Outcome::ok);
  std::ofstream(cfg.blob_path) << "{\"format\": \"twofold-sealed-secret\", \"version\": 1}";
  const auto r = vol.verify(Secret::from_string("2468"));
  EXPECT_EQ(r.outcome, Outcome::not_provisioned);
  EXPECT_NE(r.detail.find("missing field"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace twofold::keystore
