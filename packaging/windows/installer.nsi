; OneDrive GUI - per-user Windows installer (NSIS 3, MUI2, amd64, no admin rights).
;
;   makensis -DVERSION=0.1.0 -DPAYLOAD=<dist/onedrive-gui> [-DVERSION_NUM=0.1.0.0]
;            [-DOUTFILE=<setup.exe>] [-DAPP_ICON=<app.ico>] [-DABOUT_URL=<app's web page>]
;            [-DWINFSP_MSI=<winfsp-x.y.z.msi>] installer.nsi
; (packaging/build.py --installer does this.)
;
; Built with Debian's makensis (package nsis), on Linux, from the Windows payload: the release
; workflow's "installer" job, and the wine tests in tests/packaging run exactly this makensis
; and its amd64 stubs. (The official NSIS build for Windows ships x86 stubs only; an x86
; installer would also run under WoW64 file-system and registry redirection, where a 32-bit
; PowerShell cannot even read a 64-bit process's path.)
;
; Command line of the built installer (besides NSIS's own /S and /D=<dir>, which must be last):
;   /DESKTOP=0|1    desktop shortcut (default 0, or 1 when one exists from an earlier install)
;   /AUTOSTART=0|1  start when I sign in, HKCU Run (default 1, or the earlier install's choice)
;   /PATH=0|1       put onedrive-gui-cli on my PATH, HKCU Environment (default 0, or the
;                   earlier install's choice)
;   /WINFSP=1       run the bundled WinFsp installer when WinFsp is missing (it asks for
;                   administrator rights itself); without it a silent install only reports it
; Exit codes: 0 done; 2 cancelled or refused (e.g. /D= a folder that needs administrator rights).
; Uninstaller: /S keeps the accounts and settings; /PURGE=1 removes them too.
;
; Before files are replaced or removed, a running app is asked to quit the way its Quit does
; (uploads finish, drives unmounted): `onedrive-gui-cli.exe quit --timeout 60`. Only what is
; still running after that (quit failed or timed out, or an older version without the
; command) is ended with taskkill /F /T, and only in this user's session.

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
!define CLINAME "onedrive-gui-cli.exe"  ; the console companion: the command line, and `quit`
!define QUIT_TIMEOUT 60  ; seconds the running app gets to finish uploads and unmount
!define PUBLISHER "OneDrive GUI contributors"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\onedrive-gui"
!define RUN_KEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define APPROVED_KEY "Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
; The Run value name; the app's own "start at login" setting must use the same name.
!define RUN_VALUE "onedrive-gui"  ; = core/system/autostart.py Autostart.app_id: the app and the installer share one entry
!define SETTINGS_DIR "$LOCALAPPDATA\onedrive-gui"
!define ENV_KEY "Environment"  ; HKCU: the user's own PATH
!define WINFSP_URL "https://winfsp.dev/rel/"
!define WINFSP_REPO "https://github.com/winfsp/winfsp"
; WinFsp's licence (GPLv3 with a FLOSS exception) allows a FLOSS app to redistribute its
; unmodified installer, with this notice and a link to its repository in the user interface.
!define WINFSP_NOTICE "WinFsp - Windows File System Proxy, Copyright (C) Bill Zissimopoulos"

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

!include "StrFunc.nsh"
!include "WinMessages.nsh"

${StrLoc}
${StrRep}
${UnStrLoc}
${UnStrRep}

Var WinFspDir
Var WinFspRun
Var Purge
Var Session

!ifdef APP_ICON
  !define MUI_ICON "${APP_ICON}"
  !define MUI_UNICON "${APP_ICON}"
!endif
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC

!define MUI_WELCOMEPAGE_TEXT "$(L_WELCOME)"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
Page custom WinFspPageCreate
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXENAME}"
!define MUI_FINISHPAGE_RUN_TEXT "$(L_RUN)"
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"
; The installer in the user's language: Windows' display language picks English or
; Simplified Chinese (MUI2 chooses among the languages inserted here; English otherwise).
!insertmacro MUI_LANGUAGE "SimpChinese"
LangString L_WELCOME ${LANG_ENGLISH} "This installs ${APPNAME} ${VERSION} for your user account only; no administrator rights are needed.$\r$\n$\r$\n${APPNAME} signs in to OneDrive with your own Azure app registration and shows your drives as folders or drive letters, through rclone (included).$\r$\n$\r$\nIf ${APPNAME} is running, setup asks it to quit first (files still uploading are finished)."
LangString L_WELCOME ${LANG_SIMPCHINESE} "此程序只为你的用户帐户安装 ${APPNAME} ${VERSION}，不需要管理员权限。$\r$\n$\r$\n${APPNAME} 使用你自己的 Azure 应用注册登录 OneDrive，并通过 rclone（已包含）把你的驱动器显示为文件夹或驱动器号。$\r$\n$\r$\n如果 ${APPNAME} 正在运行，安装程序会先请它退出（正在上传的文件会先完成）。"
LangString L_RUN ${LANG_ENGLISH} "Start ${APPNAME} now"
LangString L_RUN ${LANG_SIMPCHINESE} "立即启动 ${APPNAME}"
LangString L_ASK_QUIT ${LANG_ENGLISH} "Asking ${APPNAME} to quit (uploads finish first, at most ${QUIT_TIMEOUT} s)..."
LangString L_ASK_QUIT ${LANG_SIMPCHINESE} "正在请 ${APPNAME} 退出（先完成上传，最多 ${QUIT_TIMEOUT} 秒）..."
LangString L_NO_QUIT ${LANG_ENGLISH} "${APPNAME} did not quit by itself ($1)."
LangString L_NO_QUIT ${LANG_SIMPCHINESE} "${APPNAME} 没有自行退出（$1）。"
LangString L_FORCE ${LANG_ENGLISH} "Ending ${APPNAME} by force."
LangString L_FORCE ${LANG_SIMPCHINESE} "正在强制结束 ${APPNAME}。"
LangString L_WINFSP_TITLE ${LANG_ENGLISH} "WinFsp is needed for drives"
LangString L_WINFSP_TITLE ${LANG_SIMPCHINESE} "驱动器需要 WinFsp"
LangString L_WINFSP_SUB ${LANG_ENGLISH} "Install WinFsp to see your OneDrive as a drive letter or folder."
LangString L_WINFSP_SUB ${LANG_SIMPCHINESE} "安装 WinFsp 后，OneDrive 才能显示为驱动器号或文件夹。"
LangString L_WINFSP_TEXT ${LANG_ENGLISH} "${APPNAME} shows your OneDrive in Explorer through rclone's mount, and on Windows rclone needs WinFsp (the Windows File System Proxy, free and open source) for that. WinFsp was not found on this computer. Without it, signing in and setting up accounts work, but mounting a drive fails until WinFsp is installed; ${APPNAME} picks it up without reinstalling."
LangString L_WINFSP_TEXT ${LANG_SIMPCHINESE} "${APPNAME} 通过 rclone 的挂载在资源管理器中显示你的 OneDrive，而在 Windows 上 rclone 为此需要 WinFsp（Windows File System Proxy，免费开源）。本机上没有找到 WinFsp。没有它，登录和设置帐户仍可正常进行，但在安装 WinFsp 之前挂载驱动器会失败；安装后 ${APPNAME} 无需重新安装即可使用它。"
LangString L_WINFSP_NOW ${LANG_ENGLISH} "Install WinFsp now (its own setup asks for administrator rights)"
LangString L_WINFSP_NOW ${LANG_SIMPCHINESE} "立即安装 WinFsp（它自己的安装程序会请求管理员权限）"
LangString L_WINFSP_BUNDLED ${LANG_ENGLISH} "The WinFsp installer is included unmodified, as released by the WinFsp project. ${WINFSP_NOTICE}."
LangString L_WINFSP_BUNDLED ${LANG_SIMPCHINESE} "WinFsp 安装程序按 WinFsp 项目发布的原样包含在内，未做修改。${WINFSP_NOTICE}。"
LangString L_WINFSP_ADMIN ${LANG_ENGLISH} "Installing WinFsp needs administrator rights; you can do it now or later."
LangString L_WINFSP_ADMIN ${LANG_SIMPCHINESE} "安装 WinFsp 需要管理员权限；你可以现在安装，也可以以后再装。"
LangString L_WINFSP_DOWNLOAD ${LANG_ENGLISH} "Download WinFsp from ${WINFSP_URL}"
LangString L_WINFSP_DOWNLOAD ${LANG_SIMPCHINESE} "从 ${WINFSP_URL} 下载 WinFsp"
LangString L_PATH_ADD_LONG ${LANG_ENGLISH} "Your PATH is too long to add $INSTDIR safely, so it was left as it is: add it yourself (see the README)."
LangString L_PATH_ADD_LONG ${LANG_SIMPCHINESE} "你的 PATH 太长，无法安全地添加 $INSTDIR，因此保持不变：请自行添加（见 README）。"
LangString L_PATH_REMOVE_LONG ${LANG_ENGLISH} "Your PATH is too long to be changed safely here, so it was left as it is: if it holds $INSTDIR, remove it yourself."
LangString L_PATH_REMOVE_LONG ${LANG_SIMPCHINESE} "你的 PATH 太长，无法在此安全地修改，因此保持不变：如果其中有 $INSTDIR，请自行移除。"
LangString L_WINFSP_START ${LANG_ENGLISH} "Starting the WinFsp installer (${WINFSP_NOTICE}, ${WINFSP_REPO})..."
LangString L_WINFSP_START ${LANG_SIMPCHINESE} "正在启动 WinFsp 安装程序（${WINFSP_NOTICE}，${WINFSP_REPO}）..."
LangString L_WINFSP_DONE ${LANG_ENGLISH} "WinFsp installer finished (exit code $0)."
LangString L_WINFSP_DONE ${LANG_SIMPCHINESE} "WinFsp 安装程序已结束（退出代码 $0）。"
LangString L_WINFSP_REBOOT ${LANG_ENGLISH} "WinFsp is installed; Windows must restart before drives can be mounted."
LangString L_WINFSP_REBOOT ${LANG_SIMPCHINESE} "WinFsp 已安装；需要重新启动 Windows 后才能挂载驱动器。"
LangString L_WINFSP_MISSING ${LANG_ENGLISH} "WinFsp not found: mounting needs it (${WINFSP_URL})."
LangString L_WINFSP_MISSING ${LANG_SIMPCHINESE} "没有找到 WinFsp：挂载需要它（${WINFSP_URL}）。"
LangString L_WINFSP_FOUND ${LANG_ENGLISH} "WinFsp found in $WinFspDir"
LangString L_WINFSP_FOUND ${LANG_SIMPCHINESE} "已在 $WinFspDir 中找到 WinFsp"
LangString L_SEC_DESKTOP ${LANG_ENGLISH} "Desktop shortcut"
LangString L_SEC_DESKTOP ${LANG_SIMPCHINESE} "桌面快捷方式"
LangString L_SEC_AUTOSTART ${LANG_ENGLISH} "Start when I sign in"
LangString L_SEC_AUTOSTART ${LANG_SIMPCHINESE} "登录时启动"
LangString L_SEC_PATH ${LANG_ENGLISH} "Command line: onedrive-gui-cli on my PATH"
LangString L_SEC_PATH ${LANG_SIMPCHINESE} "命令行：将 onedrive-gui-cli 加入 PATH"
LangString L_DESC_DESKTOP ${LANG_ENGLISH} "Put a ${APPNAME} shortcut on the desktop."
LangString L_DESC_DESKTOP ${LANG_SIMPCHINESE} "在桌面上放置 ${APPNAME} 快捷方式。"
LangString L_DESC_AUTOSTART ${LANG_ENGLISH} "Start ${APPNAME} in the notification area when you sign in to Windows, so your drives are mounted. You can change this later in the app."
LangString L_DESC_AUTOSTART ${LANG_SIMPCHINESE} "登录 Windows 时在通知区域启动 ${APPNAME}，以便挂载你的驱动器。以后可以在应用中更改。"
LangString L_DESC_PATH ${LANG_ENGLISH} "Add the install folder to your PATH, so that onedrive-gui-cli (the command line) runs from any cmd or PowerShell window."
LangString L_DESC_PATH ${LANG_SIMPCHINESE} "将安装文件夹添加到你的 PATH，以便在任何 cmd 或 PowerShell 窗口中运行 onedrive-gui-cli（命令行）。"
LangString L_KEEP_SETTINGS ${LANG_ENGLISH} "Keep your ${APPNAME} accounts and settings?$\r$\n$\r$\nKeep them if you will install ${APPNAME} again. Choose No to delete them from ${SETTINGS_DIR} (files not yet uploaded from a drive's cache are lost; secrets stored in Windows Credential Manager stay)."
LangString L_KEEP_SETTINGS ${LANG_SIMPCHINESE} "保留你的 ${APPNAME} 帐户和设置吗？$\r$\n$\r$\n如果你还会再次安装 ${APPNAME}，请保留。选择“否”将从 ${SETTINGS_DIR} 中删除它们（驱动器缓存中尚未上传的文件会丢失；Windows 凭据管理器中保存的机密会保留）。"
LangString L_REMOVE_SETTINGS ${LANG_ENGLISH} "Removing settings in ${SETTINGS_DIR}"
LangString L_REMOVE_SETTINGS ${LANG_SIMPCHINESE} "正在删除 ${SETTINGS_DIR} 中的设置"

; ---------------------------------------------------------------------------------------------
; Close a running app (upgrade, uninstall): ask it to quit, force only what is left.
!macro CLOSE_APP_FUNC un sf
Function ${un}SessionId
  ; $Session = this process's Terminal Services session: tasklist/taskkill look only there
  ; (another user signed in on the same PC runs their own copy).
  System::Call 'kernel32::GetCurrentProcessId() i .r0'
  System::Call 'kernel32::ProcessIdToSessionId(i r0, *i .r1) i .r2'
  ${If} $2 == 0
    StrCpy $1 "0"
  ${EndIf}
  StrCpy $Session $1
FunctionEnd

Function ${un}IsRunning
  ; in: $R9 = image name; out: $0 = 1 when it runs in this session, else 0. The CSV output
  ; names the image in quotes whatever the system's language (no message text is read).
  nsExec::ExecToStack '"$SYSDIR\tasklist.exe" /FO CSV /NH /FI "SESSION eq $Session" /FI "IMAGENAME eq $R9"'
  Pop $0
  Pop $1
  ${${sf}StrLoc} $2 $1 '"$R9"' ">"
  ${If} $2 == ""
    StrCpy $0 0
  ${Else}
    StrCpy $0 1
  ${EndIf}
FunctionEnd

Function ${un}AnyRunning
  ; $0 = 1 when the app or its console companion runs in this session
  StrCpy $R9 "${EXENAME}"
  Call ${un}IsRunning
  ${If} $0 == 0
    StrCpy $R9 "${CLINAME}"
    Call ${un}IsRunning
  ${EndIf}
FunctionEnd

Function ${un}CloseApp
  Call ${un}SessionId
  ${If} ${FileExists} "$INSTDIR\${CLINAME}"
    ; The app's own quit: uploads finish (at most QUIT_TIMEOUT s), drives are unmounted,
    ; rclone stops. Exit 0 when it quit or none was running.
    DetailPrint "$(L_ASK_QUIT)"
    nsExec::ExecToLog '"$INSTDIR\${CLINAME}" quit --timeout ${QUIT_TIMEOUT}'
    Pop $1
  ${Else}
    StrCpy $1 "no quit command (earlier version)"
  ${EndIf}
  ${If} $1 != 0
    DetailPrint "$(L_NO_QUIT)"
  ${EndIf}
  ; what quit left running (a console `onedrive-gui-cli mount`, or quit failed): a few
  ; seconds to go, then forced
  StrCpy $R8 0
  ${Do}
    Call ${un}AnyRunning
    ${If} $0 == 0
    ${OrIf} $R8 >= 10
      ${Break}
    ${EndIf}
    Sleep 500
    IntOp $R8 $R8 + 1
  ${Loop}
  ${If} $0 == 1
    DetailPrint "$(L_FORCE)"
    nsExec::ExecToLog '"$SYSDIR\taskkill.exe" /F /T /FI "SESSION eq $Session" /IM "${EXENAME}" /IM "${CLINAME}"'
    Pop $1
    Sleep 1000
  ${EndIf}
  ; An rclone left running from this folder (its parent gone) would lock rclone.exe. The
  ; folder goes through the environment, not into the command: any character of a user
  ; name (an apostrophe, say) is safe there.
  ${If} ${FileExists} "$INSTDIR\rclone.exe"
    System::Call 'kernel32::SetEnvironmentVariable(t "ODG_INSTDIR", t "$INSTDIR") i .r1'
    nsExec::ExecToLog '"$SYSDIR\WindowsPowerShell\v1.0\powershell.exe" -NoProfile -NonInteractive -Command "$$exe = Join-Path $$env:ODG_INSTDIR rclone.exe; Get-Process -Name rclone -ErrorAction SilentlyContinue | Where-Object { $$_.Path -eq $$exe } | Stop-Process -Force"'
    Pop $1
  ${EndIf}
FunctionEnd
!macroend
!insertmacro CLOSE_APP_FUNC "" ""
!insertmacro CLOSE_APP_FUNC "un." "Un"

; ---------------------------------------------------------------------------------------------
; Folders that need administrator rights are refused: this is a per-user install.
Function PrefixOf
  ; $R1 = folder, $R2 = candidate parent; $R0 = 1 when $R1 is $R2 or inside it
  StrCpy $R0 0
  ${If} $R2 == ""
    Return
  ${EndIf}
  StrLen $R3 $R2
  StrCpy $R4 $R1 $R3  ; the first len($R2) characters (StrCmp ignores case)
  ${If} $R4 == $R2
    StrCpy $R5 $R1 1 $R3  ; the character after it: end, or a separator
    ${If} $R5 == ""
    ${OrIf} $R5 == "\"
      StrCpy $R0 1
    ${EndIf}
  ${EndIf}
FunctionEnd

Function IsProtectedDir
  ; in: $R1 = folder; out: $R0 = 1 when it needs administrator rights to write
  StrCpy $R0 0
  ; (a drive's root is refused by NSIS itself: AllowRootDirInstall is off)
  ${ForEach} $R6 1 7 + 1
    ${Select} $R6
      ${Case} 1
        StrCpy $R2 $PROGRAMFILES64
      ${Case} 2
        StrCpy $R2 $PROGRAMFILES32
      ${Case} 3
        ReadEnvStr $R2 "ProgramFiles(x86)"
      ${Case} 4
        ReadEnvStr $R2 "ProgramW6432"
      ${Case} 5
        ReadEnvStr $R2 "ProgramFiles"
      ${Case} 6
        StrCpy $R2 $WINDIR
      ${Case} 7
        ReadEnvStr $R2 "ProgramData"
    ${EndSelect}
    ${If} $R0 == 0
      Call PrefixOf
    ${EndIf}
    ${If} $R0 == 1
      ${Break}
    ${EndIf}
  ${Next}
FunctionEnd

Function .onVerifyInstDir
  StrCpy $R1 $INSTDIR
  Call IsProtectedDir
  ${If} $R0 == 1
    Abort ; Next stays disabled: a folder of your own is needed (no administrator rights)
  ${EndIf}
FunctionEnd

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

!ifndef WINFSP_MSI
Function OpenWinFspLink
  Pop $0
  ExecShell "open" "${WINFSP_URL}"
FunctionEnd
!endif

!ifdef WINFSP_MSI
Function OpenWinFspRepo
  Pop $0
  ExecShell "open" "${WINFSP_REPO}"
FunctionEnd

Function WinFspCheckbox
  Pop $0
  ${NSD_GetState} $0 $1
  ${If} $1 == ${BST_CHECKED}
    StrCpy $WinFspRun 1
  ${Else}
    StrCpy $WinFspRun 0
  ${EndIf}
FunctionEnd
!endif

Function WinFspPageCreate
  ${If} $WinFspDir != ""
    Abort ; installed: nothing to explain
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "$(L_WINFSP_TITLE)" "$(L_WINFSP_SUB)"
  nsDialogs::Create 1018
  Pop $0
  ${If} $0 == error
    Abort
  ${EndIf}
  ${NSD_CreateLabel} 0 0 100% 48u "$(L_WINFSP_TEXT)"
  Pop $0
!ifdef WINFSP_MSI
  ${NSD_CreateCheckbox} 0 54u 100% 12u "$(L_WINFSP_NOW)"
  Pop $0
  StrCpy $WinFspRun 1
  ${NSD_Check} $0
  ${NSD_OnClick} $0 WinFspCheckbox
  ${NSD_CreateLabel} 0 70u 100% 20u "$(L_WINFSP_BUNDLED)"
  Pop $0
  ${NSD_CreateLink} 0 92u 100% 12u "${WINFSP_REPO}"
  Pop $0
  ${NSD_OnClick} $0 OpenWinFspRepo
!else
  ${NSD_CreateLabel} 0 54u 100% 20u "$(L_WINFSP_ADMIN)"
  Pop $0
  ${NSD_CreateLink} 0 76u 100% 12u "$(L_WINFSP_DOWNLOAD)"
  Pop $0
  ${NSD_OnClick} $0 OpenWinFspLink
!endif
  nsDialogs::Show
FunctionEnd

; ---------------------------------------------------------------------------------------------
; The user's PATH (HKCU\Environment), for onedrive-gui-cli in cmd and PowerShell.
!macro PATH_FUNCS un sf
Function ${un}PathHasInstDir
  ; $0 = 1 when $INSTDIR is an entry of the user's PATH, 0 when it is not, 2 when the PATH
  ; cannot be read here in full; $1 = the PATH (when $0 is 0 or 1).
  ; A PATH of NSIS_MAX_STRLEN characters or more (common on developer machines) reads as ""
  ; with the error flag set, exactly like a missing one: taken for empty, it would be
  ; replaced by $INSTDIR alone. So an error is "missing" only when no value named Path
  ; exists; a PATH that exists and cannot be read is never rewritten.
  ClearErrors
  ReadRegStr $1 HKCU "${ENV_KEY}" "Path"
  ${IfNot} ${Errors}
    ${${sf}StrLoc} $2 ";$1;" ";$INSTDIR;" ">"
    ${If} $2 == ""
      StrCpy $0 0
    ${Else}
      StrCpy $0 1
    ${EndIf}
    Return
  ${EndIf}
  StrCpy $1 ""
  StrCpy $0 0
  StrCpy $3 0
  ${Do}
    ClearErrors
    EnumRegValue $2 HKCU "${ENV_KEY}" $3
    ${If} ${Errors}
    ${OrIf} $2 == ""
      ${Break}
    ${EndIf}
    ${If} $2 == "Path"  ; (StrCmp ignores case, as the registry does for value names)
      StrCpy $0 2
      ${Break}
    ${EndIf}
    IntOp $3 $3 + 1
  ${Loop}
  ClearErrors
FunctionEnd

Function ${un}PathTooLong
  ; $0 = 1 when the PATH in $1 is too long to be edited here without cutting it
  StrLen $2 $1
  StrLen $3 $INSTDIR
  IntOp $2 $2 + $3
  IntOp $2 $2 + 4
  ${If} $2 >= ${NSIS_MAX_STRLEN}
    StrCpy $0 1
  ${Else}
    StrCpy $0 0
  ${EndIf}
FunctionEnd

Function ${un}PathChanged
  ; running programs (Explorer, new consoles) re-read the environment
  SendMessage ${HWND_BROADCAST} ${WM_SETTINGCHANGE} 0 "STR:Environment" /TIMEOUT=2000
FunctionEnd
!macroend
!insertmacro PATH_FUNCS "" ""
!insertmacro PATH_FUNCS "un." "Un"

Function AddToPath
  Call PathHasInstDir
  ${If} $0 == 1
    Return
  ${EndIf}
  ${If} $0 == 0
    Call PathTooLong
  ${Else}
    StrCpy $0 1  ; unreadable: too long
  ${EndIf}
  ${If} $0 == 1
    DetailPrint "$(L_PATH_ADD_LONG)"
    MessageBox MB_OK|MB_ICONINFORMATION "$(L_PATH_ADD_LONG)" /SD IDOK
    Return
  ${EndIf}
  ${If} $1 == ""
    StrCpy $1 "$INSTDIR"
  ${Else}
    StrCpy $1 "$1;$INSTDIR"
  ${EndIf}
  WriteRegExpandStr HKCU "${ENV_KEY}" "Path" $1
  Call PathChanged
FunctionEnd

!macro REMOVE_FROM_PATH un sf
Function ${un}RemoveFromPath
  Call ${un}PathHasInstDir
  ${If} $0 == 0
    Return
  ${EndIf}
  ${If} $0 == 2
    ; unreadable (too long): never rewritten; it may or may not hold $INSTDIR
    DetailPrint "$(L_PATH_REMOVE_LONG)"
!if "${un}" == "un."
    MessageBox MB_OK|MB_ICONINFORMATION "$(L_PATH_REMOVE_LONG)" /SD IDOK
!endif
    Return
  ${EndIf}
  Call ${un}PathTooLong
  ${If} $0 == 1
    DetailPrint "$(L_PATH_REMOVE_LONG)"
    Return
  ${EndIf}
  ${${sf}StrRep} $1 ";$1;" ";$INSTDIR;" ";"
  ; drop the separators added around it
  StrCpy $1 $1 "" 1
  StrCpy $1 $1 -1
  ${If} $1 == ""
    DeleteRegValue HKCU "${ENV_KEY}" "Path"
  ${Else}
    WriteRegExpandStr HKCU "${ENV_KEY}" "Path" $1
  ${EndIf}
  Call ${un}PathChanged
FunctionEnd
!macroend
!insertmacro REMOVE_FROM_PATH "" ""
!insertmacro REMOVE_FROM_PATH "un." "Un"

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
!ifdef ABOUT_URL
  WriteRegStr HKCU "${UNINST_KEY}" "URLInfoAbout" "${ABOUT_URL}"
!else
  DeleteRegValue HKCU "${UNINST_KEY}" "URLInfoAbout"
!endif
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKCU "${UNINST_KEY}" "EstimatedSize" "$0"

  ${If} $WinFspDir == ""
!ifdef WINFSP_MSI
    ${If} $WinFspRun == 1
      DetailPrint "$(L_WINFSP_START)"
      InitPluginsDir
      SetOutPath "$PLUGINSDIR"
      File "/oname=winfsp.msi" "${WINFSP_MSI}"
      SetOutPath "$INSTDIR"
      ${If} ${Silent}
        ; no dialogs to answer (its progress and the administrator prompt only), no reboot
        ExecWait '"$SYSDIR\msiexec.exe" /i "$PLUGINSDIR\winfsp.msi" /passive /norestart' $0
      ${Else}
        ExecWait '"$SYSDIR\msiexec.exe" /i "$PLUGINSDIR\winfsp.msi"' $0
      ${EndIf}
      DetailPrint "$(L_WINFSP_DONE)"
      ; 3010 (ERROR_SUCCESS_REBOOT_REQUIRED) and 1641 (restart started) are successes
      ${If} $0 == 3010
      ${OrIf} $0 == 1641
        DetailPrint "$(L_WINFSP_REBOOT)"
        SetRebootFlag true
      ${EndIf}
      Call DetectWinFsp
    ${EndIf}
!endif
  ${EndIf}
  ${If} $WinFspDir == ""
    DetailPrint "$(L_WINFSP_MISSING)"
  ${Else}
    DetailPrint "$(L_WINFSP_FOUND)"
  ${EndIf}
SectionEnd

Section /o "$(L_SEC_DESKTOP)" SecDesktop
  CreateShortcut "$DESKTOP\${APPNAME}.lnk" "$INSTDIR\${EXENAME}" "" "$INSTDIR\${EXENAME}" 0
SectionEnd

Section "$(L_SEC_AUTOSTART)" SecAutostart
  WriteRegStr HKCU "${RUN_KEY}" "${RUN_VALUE}" '"$INSTDIR\${EXENAME}"'
SectionEnd

Section /o "$(L_SEC_PATH)" SecPath
  Call AddToPath
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
  ${IfNot} ${SectionIsSelected} ${SecPath}
    Call RemoveFromPath
  ${EndIf}
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "$(L_DESC_DESKTOP)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "$(L_DESC_AUTOSTART)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecPath} "$(L_DESC_PATH)"
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; Section indexes are defined only after the sections, so .onInit comes here.
!macro OPTION_FROM_COMMAND_LINE name section
  ClearErrors
  ${GetOptions} $R0 "/${name}=" $R1
  ${IfNot} ${Errors}
    ${If} $R1 == "1"
      !insertmacro SelectSection ${section}
    ${Else}
      !insertmacro UnselectSection ${section}
    ${EndIf}
  ${EndIf}
!macroend

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
    Push $INSTDIR
    StrCpy $INSTDIR $0
    Call PathHasInstDir
    Pop $INSTDIR
    ${If} $0 == 1
      !insertmacro SelectSection ${SecPath}
    ${EndIf}
  ${EndIf}
  ; Command-line choices win.
  ${GetParameters} $R0
  !insertmacro OPTION_FROM_COMMAND_LINE "DESKTOP" ${SecDesktop}
  !insertmacro OPTION_FROM_COMMAND_LINE "AUTOSTART" ${SecAutostart}
  !insertmacro OPTION_FROM_COMMAND_LINE "PATH" ${SecPath}
  StrCpy $WinFspRun 0
  ClearErrors
  ${GetOptions} $R0 "/WINFSP=" $R1
  ${IfNot} ${Errors}
  ${AndIf} $R1 == "1"
    StrCpy $WinFspRun 1
  ${EndIf}
  Call DetectWinFsp
  ; A silent install has no folder page to refuse /D= on: refuse it here (exit code 2).
  ${If} ${Silent}
    StrCpy $R1 $INSTDIR
    Call IsProtectedDir
    ${If} $R0 == 1
      SetErrorLevel 2
      Abort
    ${EndIf}
  ${EndIf}
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
  Call un.RemoveFromPath

  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\licenses"
  Delete "$INSTDIR\${EXENAME}"
  Delete "$INSTDIR\${CLINAME}"
  Delete "$INSTDIR\rclone.exe"
  Delete "$INSTDIR\rclone.old.exe"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"

  DeleteRegKey HKCU "${UNINST_KEY}"

  ${If} $Purge != "1"
  ${AndIf} ${FileExists} "${SETTINGS_DIR}\*.*"
    ; Silent uninstall (/S) answers Yes: keep.
    MessageBox MB_YESNO|MB_ICONQUESTION "$(L_KEEP_SETTINGS)" /SD IDYES IDYES keep
    StrCpy $Purge "1"
    keep:
  ${EndIf}
  ${If} $Purge == "1"
    DetailPrint "$(L_REMOVE_SETTINGS)"
    RMDir /r "${SETTINGS_DIR}"
  ${EndIf}
SectionEnd
