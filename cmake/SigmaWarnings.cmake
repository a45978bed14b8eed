# Warnings for project code only: an INTERFACE target linked PRIVATE by every
# sigma target, so consumers of the installed library never inherit -Werror.
add_library(sigma_warnings INTERFACE)
# -Wshadow=local is GCC's; clang spells the nearest check -Wshadow-uncaptured-local.
target_compile_options(sigma_warnings INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Werror -Wnon-virtual-dtor>
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local>
  $<$<CXX_COMPILER_ID:Clang>:-Wshadow-uncaptured-local>)

# Sanitizer build (the CI's second build): -DSIGMA_SANITIZE=ON.
option(SIGMA_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
if(SIGMA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
