# Installs the npm test peers (dynalite, s3rver) into tests/aws/node_modules from the lock file,
# unless they are already there. Run by ctest as the aws_peers fixture: cmake -DDIR=... -P this.
if(EXISTS "${DIR}/node_modules/dynalite/package.json" AND
   EXISTS "${DIR}/node_modules/s3rver/package.json")
  message(STATUS "npm test peers already installed")
  return()
endif()
find_program(NPM npm REQUIRED)
execute_process(COMMAND ${NPM} ci --no-audit --no-fund --prefix "${DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm ci --prefix ${DIR} failed (${rc})")
endif()
