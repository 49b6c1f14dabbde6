# Include roots: folders of symbolic links in the build tree that spell headers as the sources do
# ("engine/tensor.hpp", "nn/gpt.hpp") while holding only some of them. A target that is given a
# root can include what the root holds and nothing else, so the build, not a convention, decides
# which headers a target sees. The roots are made anew at every configure: a header taken off a
# list is gone from its root.

# mmx_header_root(<var> <name> <header>...): a root named <name> holding the given headers
# (paths relative to the source tree); its folder goes to <var>.
function(mmx_header_root var name)
  set(root ${PROJECT_BINARY_DIR}/include-roots/${name})
  file(REMOVE_RECURSE ${root})
  foreach(header ${ARGN})
    get_filename_component(dir ${root}/${header} DIRECTORY)
    file(MAKE_DIRECTORY ${dir})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${header} ${root}/${header} SYMBOLIC)
  endforeach()
  set(${var} ${root} PARENT_SCOPE)
endfunction()

# mmx_folder_root(<var> <name> <folder>...): a root holding whole top-level folders of the source
# tree (each one link), for the code above the engine ("nn/...", "cli/...").
function(mmx_folder_root var name)
  set(root ${PROJECT_BINARY_DIR}/include-roots/${name})
  file(REMOVE_RECURSE ${root})
  file(MAKE_DIRECTORY ${root})
  foreach(folder ${ARGN})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${folder} ${root}/${folder} SYMBOLIC)
  endforeach()
  set(${var} ${root} PARENT_SCOPE)
endfunction()
