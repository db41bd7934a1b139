; OneDrive GUI - per-user Windows installer (NSIS 3, MUI2, amd64, no admin rights).
;
;   makensis /DVERSION=0.1.0 /DPAYLOAD=<dist\onedrive-gui> [/DVERSION_NUM=0.1.0.0]
;            [/DOUTFILE=<setup.exe>] [/DAPP_ICON=<app.ico>] installer.nsi
; (packaging/build.py --installer does this.)
;
; Command line of the built installer (besides NSIS's own /S and /D=<dir>, which must be last):
;   /DESKTOP=0|1    desktop shortcut (default 0, or 1 when one exists from an earlier install)
;   /AUTOSTART=0|1  start when I sign in, HKCU Run (default 1, or the earlier install's choice)
; Uninstaller: /S keeps the accounts and settings; /PURGE=1 removes them too.

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
SetCompressorDictSize 64

!ifndef VERSION
  !error "Pass the package version: makensis /DVERSION=x.y.z"
!endif
!ifndef VERSION_NUM
  !define VERSION_NUM "${VERSION}.0"
!endif
!ifndef PAYLOAD
  !define PAYLOAD "..\..\dist\onedrive-gui"
!endif
!ifndef OUTFILE
  !define OUTFILE "onedrive-gui-${VERSION}-setup.exe"
!endif

!define APPNAME "OneDrive GUI"
!define EXENAME "onedrive-gui.exe"
!define PUBLISHER "OneDrive GUI contributors"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\onedrive-gui"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
; The Run value name; the app's own "start at login" setting must use the same name.
!define RUN_VALUE "onedrive-gui"  ; = core/autostart.py Autostart.app_id: the app and the installer share one entry
!define SETTINGS_DIR "$LOCALAPPDATA\onedrive-gui"
!define WINFSP_URL "https://winfsp.dev/rel/"

Name "${APPNAME}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APPNAME}"
InstallDirRegKey HKCU "${UNINST_KEY}" "InstallLocation"
BrandingText "${APPNAME} ${VERSION}"

VIProductVersion "${VERSION_NUM}"
VIFileVersion "${VERSION_NUM}"
VIAddVersionKey "ProductName" "${APPNAME}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APPNAME} setup"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "MIT licence"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "nsDialogs.nsh"
!include "Sections.nsh"

Var WinFspDir
Var Purge

!ifdef APP_ICON
  !define MUI_ICON "${APP_ICON}"
  !define MUI_UNICON "${APP_ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC

!define MUI_WELCOMEPAGE_TEXT "This installs ${APPNAME} ${VERSION} for your user account only; no administrator rights are needed.$\r$\n$\r$\n${APPNAME} signs in to OneDrive with your own Azure app registration and shows your drives as folders or drive letters, through rclone (included).$\r$\n$\r$\nIf ${APPNAME} is running, setup closes it first."
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
Page custom WinFspPageCreate
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXENAME}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APPNAME} now"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ---------------------------------------------------------------------------------------------
; Close a running app (upgrade, uninstall): politely, then by force; then our own rclone.
!macro CLOSE_APP_FUNC un
Function ${un}IsAppRunning
  ; exit code 0 from find = the process list names our exe
  nsExec::Exec '"$SYSDIR\cmd.exe" /C ""$SYSDIR\tasklist.exe" /NH /FI "IMAGENAME eq ${EXENAME}" | "$SYSDIR\find.exe" /I "${EXENAME}""'
  Pop $0
FunctionEnd

Function ${un}CloseApp
  Call ${un}IsAppRunning
  ${If} $0 == 0
    DetailPrint "Closing the running ${APPNAME}..."
    nsExec::Exec '"$SYSDIR\taskkill.exe" /IM ${EXENAME} /T'
    Pop $1
    StrCpy $2 0
    ${Do}
      Sleep 500
      Call ${un}IsAppRunning
      ${If} $0 != 0
        ${Break}
      ${EndIf}
      IntOp $2 $2 + 1
    ${LoopUntil} $2 >= 10
    ${If} $0 == 0
      nsExec::Exec '"$SYSDIR\taskkill.exe" /F /IM ${EXENAME} /T'
      Pop $1
      Sleep 1000
    ${EndIf}
  ${EndIf}
  ; An rclone left running from this folder (its parent gone) would lock rclone.exe.
  ${If} ${FileExists} "$INSTDIR\rclone.exe"
    nsExec::Exec `"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -Command "Get-Process -Name rclone -ErrorAction SilentlyContinue | Where-Object { $$_.Path -eq '$INSTDIR\rclone.exe' } | Stop-Process -Force"`
    Pop $1
  ${EndIf}
FunctionEnd
!macroend
!insertmacro CLOSE_APP_FUNC ""
!insertmacro CLOSE_APP_FUNC "un."

; ---------------------------------------------------------------------------------------------
Function DetectWinFsp
  StrCpy $WinFspDir ""
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\WinFsp" "InstallDir"
  ${If} $0 == ""
    ReadRegStr $0 HKLM "SOFTWARE\WinFsp" "InstallDir"
  ${EndIf}
  ${If} $0 != ""
  ${AndIf} ${FileExists} "$0\*.*"
    StrCpy $WinFspDir $0
  ${EndIf}
FunctionEnd

Function OpenWinFspLink
  Pop $0
  ExecShell "open" "${WINFSP_URL}"
FunctionEnd

Function WinFspPageCreate
  ${If} $WinFspDir != ""
    Abort ; installed: nothing to explain
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "WinFsp is needed for drives" "Install WinFsp to see your OneDrive as a drive letter or folder."
  nsDialogs::Create 1018
  Pop $0
  ${If} $0 == error
    Abort
  ${EndIf}
  ${NSD_CreateLabel} 0 0 100% 60u "${APPNAME} shows your OneDrive in Explorer through rclone's mount, and on Windows rclone needs WinFsp (the Windows File System Proxy, free and open source) for that. WinFsp was not found on this computer.$\r$\n$\r$\nWithout it, signing in and setting up accounts work, but mounting a drive fails until WinFsp is installed. Installing WinFsp needs administrator rights; you can do it now or later, and ${APPNAME} will pick it up without reinstalling."
  Pop $0
  ${NSD_CreateLink} 0 70u 100% 12u "Download WinFsp from ${WINFSP_URL}"
  Pop $0
  ${NSD_OnClick} $0 OpenWinFspLink
  ${NSD_CreateLabel} 0 90u 100% 24u "Click Next to continue installing ${APPNAME}."
  Pop $0
  nsDialogs::Show
FunctionEnd

; ---------------------------------------------------------------------------------------------
Section "-${APPNAME}" SecCore
  SectionIn RO
  Call CloseApp
  SetOutPath "$INSTDIR"
  ; Replace the bundled Python/Qt runtime completely (no stale files from an older version).
  RMDir /r "$INSTDIR\_internal"
  ${If} ${FileExists} "$INSTDIR\rclone.exe"
    ; Windows lets a running exe be renamed, not overwritten: never fail on a busy rclone.
    Delete "$INSTDIR\rclone.old.exe"
    Rename "$INSTDIR\rclone.exe" "$INSTDIR\rclone.old.exe"
    Delete "$INSTDIR\rclone.old.exe"
  ${EndIf}
  File /r "${PAYLOAD}\*.*"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateShortcut "$SMPROGRAMS\${APPNAME}.lnk" "$INSTDIR\${EXENAME}" "" "$INSTDIR\${EXENAME}" 0

  WriteRegStr HKCU "${UNINST_KEY}" "DisplayName" "${APPNAME}"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegStr HKCU "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXENAME},0"
  WriteRegStr HKCU "${UNINST_KEY}" "URLInfoAbout" "${WINFSP_URL}"
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"

  ${If} $WinFspDir == ""
    DetailPrint "WinFsp not found: mounting needs it (${WINFSP_URL})."
  ${Else}
    DetailPrint "WinFsp found in $WinFspDir"
  ${EndIf}
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${APPNAME}.lnk" "$INSTDIR\${EXENAME}" "" "$INSTDIR\${EXENAME}" 0
SectionEnd

Section "Start when I sign in" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${RUN_VALUE}" '"$INSTDIR\${EXENAME}"'
SectionEnd

Section "-Apply unchecked options"
  ; Unchecking an option on upgrade removes what the earlier install created.
  ${IfNot} ${SectionIsSelected} ${SecDesktop}
    Delete "$DESKTOP\${APPNAME}.lnk"
  ${EndIf}
  ${IfNot} ${SectionIsSelected} ${SecAutostart}
    DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
    DeleteRegValue HKCU "${APPROVED_KEY}" "${RUN_VALUE}"
  ${EndIf}
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "Put a ${APPNAME} shortcut on the desktop."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "Start ${APPNAME} in the notification area when you sign in to Windows, so your drives are mounted. You can change this later in the app."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; Section indexes are defined only after the sections, so .onInit comes here.
Function .onInit
  ; Earlier choices are kept on upgrade.
  ${If} ${FileExists} "$DESKTOP\${APPNAME}.lnk"
    !insertmacro SelectSection ${SecDesktop}
  ${EndIf}
  ReadRegStr $0 HKCU "${UNINST_KEY}" "InstallLocation"
  ${If} $0 != ""
    ReadRegStr $1 HKCU "${RUN_KEY}" "${RUN_VALUE}"
    ${If} $1 == ""
      !insertmacro UnselectSection ${SecAutostart}
    ${EndIf}
  ${EndIf}
  ; Command-line choices win.
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/DESKTOP=" $R1
  ${IfNot} ${Errors}
    ${If} $R1 == "1"
      !insertmacro SelectSection ${SecDesktop}
    ${Else}
      !insertmacro UnselectSection ${SecDesktop}
    ${EndIf}
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/AUTOSTART=" $R1
  ${IfNot} ${Errors}
    ${If} $R1 == "1"
      !insertmacro SelectSection ${SecAutostart}
    ${Else}
      !insertmacro UnselectSection ${SecAutostart}
    ${EndIf}
  ${EndIf}
  Call DetectWinFsp
FunctionEnd

; ---------------------------------------------------------------------------------------------
Function un.onInit
  StrCpy $Purge "0"
  ${GetParameters} $R0
  ClearErrors
  ${GetOptions} $R0 "/PURGE=" $R1
  ${IfNot} ${Errors}
  ${AndIf} $R1 == "1"
    StrCpy $Purge "1"
  ${EndIf}
FunctionEnd

Section "Uninstall"
  Call un.CloseApp

  Delete "$SMPROGRAMS\${APPNAME}.lnk"
  Delete "$DESKTOP\${APPNAME}.lnk"
  DeleteRegValue HKCU "${RUN_KEY}" "${RUN_VALUE}"
  DeleteRegValue HKCU "${APPROVED_KEY}" "${RUN_VALUE}"

  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\licenses"
  Delete "$INSTDIR\${EXENAME}"
  Delete "$INSTDIR\rclone.exe"
  Delete "$INSTDIR\rclone.old.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey HKCU "${UNINST_KEY}"

  ${If} $Purge != "1"
  ${AndIf} ${FileExists} "${SETTINGS_DIR}\*.*"
    ; Silent uninstall (/S) answers Yes: keep.
    MessageBox MB_YESNO|MB_ICONQUESTION "Keep your ${APPNAME} accounts and settings?$\r$\n$\r$\nKeep them if you will install ${APPNAME} again. Choose No to delete them from ${SETTINGS_DIR} (files not yet uploaded from a drive's cache are lost; secrets stored in Windows Credential Manager stay)." /SD IDYES IDYES keep
    StrCpy $Purge "1"
    keep:
  ${EndIf}
  ${If} $Purge == "1"
    DetailPrint "Removing settings in ${SETTINGS_DIR}"
    RMDir /r "${SETTINGS_DIR}"
  ${EndIf}
SectionEnd
