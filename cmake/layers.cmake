# Layers that the build enforces.
#
# Every header is included by its folder name ("core/session.hpp", "handlers/handlers.hpp"). If
# all targets put src/ on their include path, any file could include any header and nothing would
# stop the core from reaching up into the handlers. Instead each folder gets an include root of
# its own in the build tree (build/layers/<folder>/<folder> -> src/<folder>), and only the target
# that owns the folder adds it. A target sees a header only if it links the target that owns it,
# so an include from a lower layer into a higher one fails to compile.

set(QR_LAYER_ROOT ${CMAKE_BINARY_DIR}/layers)

# qr_owns_folders(<target> <folder>...): <target>'s sources live in src/<folder>/ and its
# dependents see those headers.
function(qr_owns_folders target)
  foreach(folder IN LISTS ARGN)
    set(root ${QR_LAYER_ROOT}/${folder})
    if(NOT EXISTS ${root}/${folder})
      file(MAKE_DIRECTORY ${root})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${folder} ${root}/${folder} SYMBOLIC)
    endif()
    target_include_directories(${target} PUBLIC ${root})
  endforeach()
endfunction()
