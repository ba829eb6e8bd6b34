# SPDX-License-Identifier: GPL-3.0-or-later
# Install layout and the Debian package (CPack, `cmake --build build --target deb`, or
# packaging/build-deb.sh). The app and tcpscope-cli (its headless command line) go to bindir; the
# helper to libexec/tcpscope, where both look for it (core/capture/helper_access.cpp is compiled
# with that path); the chart renderer module to libdir/tcpscope, where tcpscope-cli loads it from
# (gui/cli/CMakeLists.txt compiles it with that path). The package's
# maintainer scripts (packaging/debian/postinst, postrm) make the helper root:tcpscope 0750 with
# file capabilities: only members of the group tcpscope can capture.
include(GNUInstallDirs)
if(TARGET tcpscope)
  install(TARGETS tcpscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET tcpscope-cli)
  install(TARGETS tcpscope-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET tcpscope_chart_renderer)
  install(TARGETS tcpscope_chart_renderer LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/tcpscope)
endif()
if(TARGET tcpscope-helper)
  install(TARGETS tcpscope-helper RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/tcpscope)
endif()
# Where Wireshark looks for extcap programs (on Debian /usr/lib/x86_64-linux-gnu/wireshark/extcap):
# the interface "tcpscope" then appears in its capture interfaces.
if(TARGET tcpscope-extcap)
  install(TARGETS tcpscope-extcap RUNTIME DESTINATION ${CMAKE_INSTALL_LIBDIR}/wireshark/extcap)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/resources/tcpscope.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${CMAKE_SOURCE_DIR}/resources/icons/tcpscope.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
install(FILES ${CMAKE_SOURCE_DIR}/resources/io.github.tcpscope.metainfo.xml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)

# Manual pages and the Debian changelog, compressed as Debian policy wants (gzip -9n: no name,
# no time stamp, so the package is reproducible).
set(_ts_gz_dir ${CMAKE_BINARY_DIR}/packaging)
set(_ts_gz_files)
foreach(_src man/tcpscope.1 man/tcpscope-helper.8 debian/changelog)
  get_filename_component(_name ${_src} NAME)
  set(_out ${_ts_gz_dir}/${_name}.gz)
  add_custom_command(OUTPUT ${_out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${_ts_gz_dir}
    COMMAND sh -c "gzip -9n < '${CMAKE_SOURCE_DIR}/packaging/${_src}' > '${_out}'"
    DEPENDS ${CMAKE_SOURCE_DIR}/packaging/${_src} VERBATIM)
  list(APPEND _ts_gz_files ${_out})
endforeach()
add_custom_target(tcpscope_package_docs ALL DEPENDS ${_ts_gz_files})
install(FILES ${_ts_gz_dir}/tcpscope.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
# tcpscope-cli runs the same commands: its page is tcpscope(1), through a symbolic link.
file(MAKE_DIRECTORY ${_ts_gz_dir})
file(CREATE_LINK tcpscope.1.gz ${_ts_gz_dir}/tcpscope-cli.1.gz SYMBOLIC)
install(FILES ${_ts_gz_dir}/tcpscope-cli.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_ts_gz_dir}/tcpscope-helper.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
# A native package (no Debian revision): its changelog is changelog.gz.
install(FILES ${_ts_gz_dir}/changelog.gz ${CMAKE_SOURCE_DIR}/packaging/debian/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tcpscope)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tcpscope developers <tcpscope@users.noreply.github.com>")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "tcpscope developers <tcpscope@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "TCP connection and packet analyzer fed by eBPF")
# CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first (the synopsis); this is the long part.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "tcpscope follows every TCP connection of the machine through its lifecycle
(handshake, data transfer, termination), names the process owning each end,
analyses the headers of every TCP packet and charts the kernel's own view of
each connection (RTT, congestion window, retransmissions, resets, drops).
Captures are kept in session files that can be reopened, exported (CSV,
JSON, pcapng, charts) or queried with SQLite.
.
Only members of the system group tcpscope may capture: the small BPF helper
is installed root:tcpscope 0750 with file capabilities and drops what it no
longer needs once attached.")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The package installs under the prefix the app was compiled for (build-deb.sh uses /usr).
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
# dpkg-shlibdeps computes the library dependencies of the binaries and the renderer module;
# the maintainer scripts need setcap (libcap2-bin) and addgroup/delgroup (adduser).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libcap2-bin, qt6-qpa-plugins")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # tcpscope_<version>_<arch>.deb
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
include(CPack)

# `cmake --build build --target deb`: the binaries, then the package in the build directory.
# The app is compiled with the helper's installed path: a package built from a tree configured
# for another prefix (an old build directory with /usr/local) would install files Debian does not
# expect and an app that looks for its helper in the wrong place, so the target refuses.
if(TARGET tcpscope AND TARGET tcpscope-helper AND NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  add_custom_target(deb
    COMMAND ${CMAKE_COMMAND} -E echo
            "deb: this build is configured for the prefix ${CMAKE_INSTALL_PREFIX}; the package needs /usr (reconfigure with -DCMAKE_INSTALL_PREFIX=/usr, as the presets and packaging/build-deb.sh do)"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
elseif(TARGET tcpscope AND TARGET tcpscope-helper)
  add_custom_target(deb
    COMMAND ${CMAKE_CPACK_COMMAND} -G DEB --config ${CMAKE_BINARY_DIR}/CPackConfig.cmake
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
    COMMENT "Building the Debian package"
    VERBATIM)
  add_dependencies(deb tcpscope tcpscope-helper tcpscope_package_docs)
  foreach(_ts_target tcpscope-cli tcpscope_chart_renderer)
    if(TARGET ${_ts_target})
      add_dependencies(deb ${_ts_target})
    endif()
  endforeach()
endif()
