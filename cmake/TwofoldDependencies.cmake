# Third-party dependencies, all from Debian packages (scripts/setup installs them).
include_guard(GLOBAL)

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)              # Asio is header-only
find_package(OpenSSL 3 REQUIRED)

# Xen libraries. The headers (libxen-dev, architecture-neutral) come from /usr/include for
# both builds; for aarch64 the runtime libraries are installed through multiarch, so the
# versioned file names are accepted too (Debian cannot co-install libxen-dev:arm64).
function(twofold_find_xen_library var name soname)
  find_library(${var} NAMES ${name} ${soname} REQUIRED)
  add_library(Xen::${name} UNKNOWN IMPORTED GLOBAL)
  set_target_properties(Xen::${name} PROPERTIES IMPORTED_LOCATION "${${var}}")
endfunction()
twofold_find_xen_library(XEN_STORE_LIB xenstore libxenstore.so.4)
twofold_find_xen_library(XEN_EVTCHN_LIB xenevtchn libxenevtchn.so.1)
twofold_find_xen_library(XEN_GNTTAB_LIB xengnttab libxengnttab.so.1)
twofold_find_xen_library(XEN_FOREIGNMEMORY_LIB xenforeignmemory libxenforeignmemory.so.1)
twofold_find_xen_library(XEN_TOOLLOG_LIB xentoollog libxentoollog.so.1)
twofold_find_xen_library(XEN_TOOLCORE_LIB xentoolcore libxentoolcore.so.1)
find_path(XEN_INCLUDE_DIR NAMES xen/io/ring.h xenstore.h REQUIRED)

pkg_check_modules(LIBVIRT REQUIRED IMPORTED_TARGET libvirt)
pkg_check_modules(LIBSECCOMP REQUIRED IMPORTED_TARGET libseccomp)
pkg_check_modules(LIBEVDEV REQUIRED IMPORTED_TARGET libevdev)
pkg_check_modules(LIBDRM REQUIRED IMPORTED_TARGET libdrm)
# The sound backend's ALSA sink (vmm/sound); optional so a tree set up before it still builds.
pkg_check_modules(ALSA IMPORTED_TARGET alsa)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
# toml++ is used header-only so that the cross build needs no arm64 copy of its library.
find_path(TOMLPLUSPLUS_INCLUDE_DIR toml++/toml.h REQUIRED)
add_library(twofold_tomlplusplus INTERFACE)
target_include_directories(twofold_tomlplusplus SYSTEM INTERFACE ${TOMLPLUSPLUS_INCLUDE_DIR})
target_compile_definitions(twofold_tomlplusplus INTERFACE TOML_HEADER_ONLY=1 TOML_EXCEPTIONS=0)

if(TWOFOLD_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(TWOFOLD_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
