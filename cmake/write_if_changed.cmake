# glimmer_write_if_changed(<file> <content>): writes <file> only when its content differs, so
# that regenerating an unchanged embedded source recompiles and relinks nothing.
# Included by the -P scripts that generate sources (embed_text_files, embed_migrations,
# embed_assets).
function(glimmer_write_if_changed FILE CONTENT)
  if(EXISTS ${FILE})
    file(READ ${FILE} _old)
    if(_old STREQUAL CONTENT)
      return()
    endif()
  endif()
  file(WRITE ${FILE} "${CONTENT}")
endfunction()
