// The hook scripts, kept verbatim as shell (the only escaping is TypeScript's: \\ \` \${).
// Placeholders: __NONCE__; bash also __USER_RC__ (the user's startup files); zsh also __ZDOTDIR_TMP__ and
// __RESTORE_ZDOTDIR__. Filled in by shellIntegration.ts.

// `__labdeck_esc` in both shells: one escaping for the OSC 633 E/P payloads that shellIntegrationParser.ts decodes
// (backslash, `;` and control characters as \xNN), so the function bodies are this one text.
const ESCAPE_BODY = `  local s=$1
  s=\${s//\\\\/\\\\\\\\}
  s=\${s//;/\\\\x3b}
  s=\${s//$'\\n'/\\\\x0a}
  s=\${s//$'\\r'/\\\\x0d}
  s=\${s//$'\\a'/\\\\x07}
  s=\${s//$'\\e'/\\\\x1b}
  s=\${s//$'\\x18'/\\\\x18}
  s=\${s//$'\\x1a'/\\\\x1a}`;

export const BASH_INIT_TEMPLATE = `# LabDeck shell integration for bash >= 4.4 (docs/terminal.md). Arrives through a pipe; leaves no files.
builtin unset LABDECK_SHELL_INIT
__labdeck_fd=\${BASH_SOURCE[0]##*/}
__USER_RC__
__labdeck_k='k=__NONCE__'
# A key no terminal sends, bound after the user's rc in every keymap: it clears the line (into the kill ring)
# before run() types a lab command, in emacs and vi mode alike (vi command mode then goes back to insert mode).
if [[ $- == *i* ]]; then
  builtin bind -m emacs '"\\e[5311~": kill-whole-line' 2>/dev/null
  builtin bind -m vi-insert '"\\e[5311~": kill-whole-line' 2>/dev/null
  builtin bind -m vi-command '"\\e[5313~": kill-whole-line' 2>/dev/null
  builtin bind -m vi-command '"\\e[5311~": "\\e[5313~i"' 2>/dev/null
fi
__labdeck_esc() {
${ESCAPE_BODY}
  __labdeck_r=$s
}
__labdeck_prompt_start() { __labdeck_st=$?; }
__labdeck_prompt_end() {
  if [[ $__labdeck_fd =~ ^[0-9]+$ ]]; then builtin eval "exec $__labdeck_fd<&-" 2>/dev/null; fi
  __labdeck_fd=
  __labdeck_hc=$HISTCMD
  __labdeck_esc "$PWD"
  builtin printf '\\e]133;D;%s;%s\\a\\e]633;P;Cwd=%s;%s\\a' "$__labdeck_st" "$__labdeck_k" "$__labdeck_r" "$__labdeck_k"
  local a="\\[\\e]133;A;$__labdeck_k\\a\\]" b="\\[\\e]133;B;$__labdeck_k\\a\\]"
  [[ $PS1 == "$a"* ]] || PS1=$a$PS1
  [[ $PS1 == *"$b" ]] || PS1=$PS1$b
  # PS1 now holds the nonce: a user's rc that exports PS1 must not hand it to every program run here.
  builtin export -n PS1
}
__labdeck_preexec() {
  local c=
  # HISTCMD grows only if the line went into the history (not with HISTCONTROL=ignorespace, set +o history):
  # otherwise \`history 1\` would name the previous command, so send none.
  if [[ $HISTCMD != "$__labdeck_hc" ]]; then
    c=$(HISTTIMEFORMAT= builtin history 1)
    [[ $c =~ ^\\ *[0-9]+\\*?\\ \\ (.*)$ ]] && c=\${BASH_REMATCH[1]}
  fi
  __labdeck_esc "$c"
  builtin printf '\\e]633;E;%s;%s\\a\\e]133;C;%s\\a' "$__labdeck_r" "$__labdeck_k" "$__labdeck_k"
}
PROMPT_COMMAND=$'__labdeck_prompt_start\\n'"\${PROMPT_COMMAND:-}"$'\\n__labdeck_prompt_end'
PS0="\${PS0:-}"'$(__labdeck_preexec)'
`;

export const ZSH_INIT_TEMPLATE = `# LabDeck shell integration for zsh (docs/terminal.md). Read from a private temp ZDOTDIR, deleted at once.
builtin unset LABDECK_SHELL_INIT
command rm -rf -- __ZDOTDIR_TMP__
__RESTORE_ZDOTDIR__
if [[ -r \${ZDOTDIR:-$HOME}/.zshenv ]]; then builtin source \${ZDOTDIR:-$HOME}/.zshenv; fi
if [[ -o interactive ]]; then
  typeset -g __labdeck_k='k=__NONCE__'
  __labdeck_esc() {
${ESCAPE_BODY.replace(/^/gm, '  ')}
    typeset -g __labdeck_r=$s
  }
  __labdeck_status() { typeset -g __labdeck_st=$?; }
  __labdeck_precmd() {
    __labdeck_esc "$PWD"
    builtin print -rn -- $'\\e]133;D;'"\${__labdeck_st:-0};$__labdeck_k"$'\\a\\e]633;P;Cwd='"$__labdeck_r;$__labdeck_k"$'\\a'
    local a=$'%{\\e]133;A;'"$__labdeck_k"$'\\a%}' b=$'%{\\e]133;B;'"$__labdeck_k"$'\\a%}'
    [[ $PS1 == "$a"* ]] || PS1=$a$PS1
    [[ $PS1 == *"$b" ]] || PS1=$PS1$b
    # zsh prints PROMPT_SP (PROMPT_EOL_MARK, spaces, CRs) before precmd runs: end the block before it
    # (zero-width %{ %}; %? is the exit status). The D from precmd then finds no running command.
    local e=$'%{\\e]133;D;%?;'"$__labdeck_k"$'\\a%}'
    [[ \${PROMPT_EOL_MARK-%B%S%#%s%b} == "$e"* ]] || PROMPT_EOL_MARK=$e\${PROMPT_EOL_MARK-%B%S%#%s%b}
    # They hold the nonce now: never exported to the programs run here, even if the user's rc exported them.
    builtin typeset +x PS1 PROMPT_EOL_MARK
  }
  __labdeck_preexec() {
    __labdeck_esc "\${1:-$3}"
    builtin print -rn -- $'\\e]633;E;'"$__labdeck_r;$__labdeck_k"$'\\a\\e]133;C;'"$__labdeck_k"$'\\a'
  }
  __labdeck_install() {
    precmd_functions=(__labdeck_status \${precmd_functions:#__labdeck_install} __labdeck_precmd)
    # A key no terminal sends, bound after the user's rc in every keymap: it clears the line (into the kill
    # buffer) before run() types a lab command, in emacs and vi mode alike.
    builtin bindkey -M emacs '\\e[5311~' kill-whole-line
    builtin bindkey -M viins '\\e[5311~' kill-whole-line
    builtin bindkey -M vicmd '\\e[5311~' vi-change-whole-line
    preexec_functions+=(__labdeck_preexec)
    __labdeck_st=0
    __labdeck_precmd
  }
  typeset -ga precmd_functions
  precmd_functions+=(__labdeck_install)
fi
`;
