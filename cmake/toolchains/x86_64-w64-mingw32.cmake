# Cross build for Windows on x86-64 with Debian's MinGW-w64 (g++-mingw-w64-x86-64); the POSIX
# thread model (x86_64-w64-mingw32-g++-posix) gives std::thread.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR AMD64)
set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Executables carry the MinGW runtime (libstdc++, libgcc, winpthreads): a Windows machine, or
# wine, has no copy of its DLLs to find.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
# Test binaries run under wine (tools/check-mingw.sh), when it is there.
find_program(MINIFLOW_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(MINIFLOW_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MINIFLOW_WINE})
endif()
