# How the HiGHS solver's C++ is compiled (issue 24). The `highs-sys` crate builds
# HiGHS with cmake from its build script; `.cargo/config.toml` hands cmake this
# file as CMAKE_TOOLCHAIN_FILE, the one hook the cmake crate reads from the
# environment. It changes how HiGHS is compiled, never what: same sources, same
# -O3 Release flags.
#
# Unity build: HiGHS is 216 C++ files that each re-parse the same standard and
# HiGHS headers. Compiled in batches of 8 files per translation unit, the
# library builds in 84 s instead of 187 s on the 2-core machine (166 CPU-s
# instead of 369), measured standalone with `cmake --build -j2`
# (docs/performance.md, "Build").
set(CMAKE_UNITY_BUILD ON CACHE BOOL "Voltex: compile HiGHS as a unity build")
set(CMAKE_UNITY_BUILD_BATCH_SIZE 64 CACHE STRING "Voltex: source files per unity translation unit")

# Where ccache is installed, reuse HiGHS objects across target directories (a
# second clone, a fresh CI target). Optional: nothing installs it.
find_program(VOLTEX_CCACHE ccache)
if(VOLTEX_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER "${VOLTEX_CCACHE}" CACHE STRING "")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${VOLTEX_CCACHE}" CACHE STRING "")
endif()
