# Cross-compile the dom0 binaries for the board (arm64) with Debian's cross toolchain.
# Libraries come from Debian multiarch (apt-get install PKG:arm64), so they live in
# /usr/lib/aarch64-linux-gnu and headers in /usr/include: no separate sysroot is needed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# pkg-config must see only arm64 .pc files, never the host's.
set(PKG_CONFIG_EXECUTABLE /usr/bin/pkg-config CACHE FILEPATH "")
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Programs run on the build host; libraries and packages are searched in the multiarch dirs.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
