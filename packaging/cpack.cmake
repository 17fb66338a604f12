# Installation layout and the Debian package (CPack DEB). Included from the top CMakeLists.txt.
#   cpack -G DEB      (in the build directory, after building) → templet_<version>_<arch>.deb
include(GNUInstallDirs)

# The man page is shipped gzipped, as Debian policy wants; -n keeps the archive reproducible.
find_program(TEMPLET_GZIP gzip REQUIRED)
set(TEMPLET_MANPAGE_GZ ${CMAKE_BINARY_DIR}/packaging/templet.1.gz)
add_custom_command(
  OUTPUT ${TEMPLET_MANPAGE_GZ}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/packaging
  COMMAND ${TEMPLET_GZIP} -9 -n -c ${CMAKE_SOURCE_DIR}/packaging/templet.1 > ${TEMPLET_MANPAGE_GZ}
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/templet.1
  COMMENT "Compressing the man page"
  VERBATIM)
add_custom_target(templet_manpage ALL DEPENDS ${TEMPLET_MANPAGE_GZ})

# Absolute destinations: the package is for a Debian system, whatever CMAKE_INSTALL_PREFIX says
# about the binary (which follows the prefix, /usr in the package).
install(TARGETS templet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES packaging/systemd/templet.service packaging/systemd/templet-boot.service
        DESTINATION /lib/systemd/system)
install(FILES packaging/templet.yaml DESTINATION /etc/templet)
install(DIRECTORY templates/ DESTINATION ${CMAKE_INSTALL_DATADIR}/templet/templates)
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${TEMPLET_MANPAGE_GZ} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# The default config is a conffile: dpkg keeps the administrator's edits on upgrade.
set(TEMPLET_CONFFILES ${CMAKE_BINARY_DIR}/packaging/conffiles)
file(WRITE ${TEMPLET_CONFFILES} "/etc/templet/templet.yaml\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME templet)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "templet")
set(CPACK_PACKAGE_CONTACT "templet maintainers <templet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "render configuration from Vault and Consul and push it to Redash and InfluxDB")
set(CPACK_PACKAGE_DESCRIPTION
    "templet renders consul-template templates (Go text/template with consul-template's
functions) from Vault secrets and Consul data, writes the files atomically with
masked diffs, keeps leases renewed, and applies the results to Redash datasources
and InfluxDB tasks with a read-only plan first. Ships systemd units for boot
(templet-boot.service) and for the renewal daemon (templet.service).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${TEMPLET_CONFFILES})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Depends: computed from the binary's shared libraries by dpkg-shlibdeps (dpkg-dev) when it is
# there; otherwise Debian 12's names for the same libraries. libcurl4 is named either way:
# templet loads it with dlopen (net/curl_library.cpp), which dpkg-shlibdeps cannot see.
find_program(TEMPLET_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(TEMPLET_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libstdc++6, libgcc-s1, libyaml-cpp0.7, libcurl4, libspdlog1.10, libfmt9, libre2-9")
endif()
include(CPack)
