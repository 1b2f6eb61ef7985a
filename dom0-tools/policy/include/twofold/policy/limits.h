#pragma once
// Every range the policy accepts, in one place, so that docs/policy.md and the loader agree.
#include <cstddef>
#include <cstdint>

namespace twofold::policy::limits {

inline constexpr std::int64_t kSchemaVersion = 1;

// The loader refuses larger files before parsing: a policy is a page or two of text.
inline constexpr std::size_t kMaxPolicyBytes = 256 * 1024;

// Names become libvirt domain names and xenstore path components: [a-z][a-z0-9-]{0,31}.
inline constexpr std::size_t kMaxNameLength = 32;
// Network names become Linux bridge names, which IFNAMSIZ limits to 15 characters.
inline constexpr std::size_t kMaxNetworkNameLength = 15;

inline constexpr std::size_t kMaxPersonas = 8;
inline constexpr std::size_t kMaxDisksPerPersona = 16;
inline constexpr std::size_t kMaxNetworksPerPersona = 8;
inline constexpr std::size_t kMaxReachEntries = 32;
inline constexpr std::size_t kMaxRoutes = 32;
inline constexpr std::size_t kMaxPathLength = 4095;  // PATH_MAX minus the terminator
inline constexpr std::size_t kMaxCmdlineLength = 1024;  // xl/libxl guest command line limit

inline constexpr std::int64_t kMinPersonaMemoryMib = 64;
inline constexpr std::int64_t kMaxPersonaMemoryMib = 65536;
inline constexpr std::int64_t kMinVcpus = 1;
inline constexpr std::int64_t kMaxVcpus = 64;

inline constexpr std::int64_t kMinBoardMemoryMib = 256;
inline constexpr std::int64_t kMaxBoardMemoryMib = 1048576;
inline constexpr std::int64_t kMinBoardCpus = 1;
inline constexpr std::int64_t kMaxBoardCpus = 256;
// The screen (board.display). The indicator strip is dom0's: no guest pixel is drawn there.
inline constexpr std::int64_t kMinScreenWidth = 320;
inline constexpr std::int64_t kMaxScreenWidth = 8192;
inline constexpr std::int64_t kMinScreenHeight = 240;
inline constexpr std::int64_t kMaxScreenHeight = 8192;
inline constexpr std::int64_t kMinIndicatorHeight = 8;
inline constexpr std::int64_t kMaxIndicatorHeight = 128;
inline constexpr std::int64_t kMinDom0MemoryMib = 64;
inline constexpr std::int64_t kMaxDom0MemoryMib = 65536;

inline constexpr std::int64_t kMinRestartAttempts = 0;
inline constexpr std::int64_t kMaxRestartAttempts = 100;
inline constexpr std::int64_t kDefaultRestartAttempts = 5;
inline constexpr std::int64_t kMinRestartWindowSeconds = 1;
inline constexpr std::int64_t kMaxRestartWindowSeconds = 86400;
inline constexpr std::int64_t kDefaultRestartWindowSeconds = 300;

// Key codes as in linux/input-event-codes.h: KEY_RESERVED (0) is not a key, KEY_MAX is 0x2ff.
inline constexpr std::int64_t kMinKeyCode = 1;
inline constexpr std::int64_t kMaxKeyCode = 0x2ff;
// Wrong PINs in a row before an encrypted disk is crypto-erased (also the TPM's maxTries).
inline constexpr std::int64_t kMinPinRetries = 1;
inline constexpr std::int64_t kMaxPinRetries = 32;
inline constexpr std::int64_t kDefaultPinRetries = 5;
inline constexpr std::int64_t kMinDebounceMs = 1;
inline constexpr std::int64_t kMaxDebounceMs = 200;
inline constexpr std::int64_t kDefaultDebounceMs = 20;
inline constexpr std::int64_t kMinLongPressMs = 200;
inline constexpr std::int64_t kMaxLongPressMs = 10000;
inline constexpr std::int64_t kDefaultLongPressMs = 800;
inline constexpr std::int64_t kMinDoublePressWindowMs = 100;
inline constexpr std::int64_t kMaxDoublePressWindowMs = 2000;
inline constexpr std::int64_t kDefaultDoublePressWindowMs = 350;

inline constexpr std::int64_t kMinModemChannel = 0;
inline constexpr std::int64_t kMaxModemChannel = 7;
inline constexpr std::int64_t kMinSmsPerHour = 1;
inline constexpr std::int64_t kMaxSmsPerHour = 3600;
inline constexpr std::int64_t kMinSimSlot = 1;
inline constexpr std::int64_t kMaxSimSlot = 2;
inline constexpr std::size_t kMaxCalledLineDigits = 15;  // E.164

inline constexpr std::int64_t kMinCheckpointRecords = 1;
inline constexpr std::int64_t kMaxCheckpointRecords = 1000000;
inline constexpr std::int64_t kMinCheckpointSeconds = 1;
inline constexpr std::int64_t kMaxCheckpointSeconds = 86400;
inline constexpr std::int64_t kMinRotateMib = 1;
inline constexpr std::int64_t kMaxRotateMib = 4096;
// The audit log's size bound (keep_mib): the default keeps months of ordinary events
// (a switch or lifecycle record is ~200 bytes) on a phone's storage.
inline constexpr std::int64_t kMinKeepMib = 2;
inline constexpr std::int64_t kMaxKeepMib = 1048576;
inline constexpr std::int64_t kDefaultKeepMib = 256;

}  // namespace twofold::policy::limits
