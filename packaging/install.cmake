# SPDX-License-Identifier: GPL-3.0-or-later
# Install layout and a .deb via CPack (`cpack -G DEB` in the build dir). The helper goes to
# libexec and receives its capabilities in postinst, the dumpcap way: only it is privileged.
include(GNUInstallDirs)
if(TARGET tcpscope)
  install(TARGETS tcpscope RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
if(TARGET tcpscope-helper)
  install(TARGETS tcpscope-helper RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/tcpscope)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/resources/tcpscope.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications OPTIONAL)
install(FILES ${CMAKE_SOURCE_DIR}/resources/icons/tcpscope.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps OPTIONAL)
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tcpscope)
set(CPACK_PACKAGE_CONTACT "tcpscope developers <tcpscope@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcap2-bin")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/debian/postinst)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
