# bash completion for lockable(1), from gtest_lockable.
#
# The options and what they take come from `lockable --help` (the one source of the command's
# options), read once per shell. Values: files for FILE, folders for DIR, and for --requirements
# the ids of the inventory's resources after `id=` (from `lockable --list` over the inventory the
# command line or LOCKABLE_RESOURCES names). After the command starts, the command is completed.
# Works with or without the bash-completion package.

# Prints "option metavar" (metavar empty for a switch) for each option `lockable --help` lists.
_lockable_option_table() {
  "$1" --help 2>/dev/null | sed -n 's/^  \(--[a-z][a-z0-9-]*\)\( [^ ]\{1,\}\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p'
}

# Prints the ids of every resource in the inventory (whatever its host or state).
_lockable_resource_ids() {
  local resources=("${@:2}")
  "$1" --list "${resources[@]}" --requirements '{"hostname": null, "online": null}' \
    --quiet 2>/dev/null | sed -n 's/^    "id": "\(.*\)",\{0,1\}$/\1/p'
}

# Per command path: its options, and the metavar of each (empty for a switch).
declare -gA _lockable_options _lockable_metavars

_lockable() {
  local cmd=${COMP_WORDS[0]}
  # The whole word under the cursor: COMP_WORDS splits at '=', readline replaces only what follows
  # the last word-break character.
  local line=${COMP_LINE:0:COMP_POINT}
  local cur=${line##*[[:space:]]}
  local breaks=${COMP_WORDBREAKS//[[:space:]]/}
  local kept=${cur%[$breaks]*}
  [[ $kept == "$cur" ]] && kept="" || kept=${cur:0:${#kept}+1}

  if [[ -z ${_lockable_options[$cmd]+set} ]]; then
    local name meta table
    table=$(_lockable_option_table "$cmd")
    _lockable_options[$cmd]=""
    while read -r name meta; do
      [[ -n $name ]] || continue
      _lockable_options[$cmd]+=" $name"
      _lockable_metavars[$cmd$name]=$meta
    done <<<"$table"
  fi

  # Words before the cursor: find the command (after `--` or the first non-option) and the
  # option whose value is being typed.
  local -a words
  read -r -a words <<<"$line"
  [[ -n $cur ]] && unset 'words[${#words[@]}-1]'
  local i=1 option="" value="" resources=()
  [[ -n ${LOCKABLE_RESOURCES:-} ]] && resources=(--resources "$LOCKABLE_RESOURCES")
  while ((i < ${#words[@]})); do
    local w=${words[i]}
    if [[ $w == -- ]]; then
      _lockable_command $((i + 1)) "$cur"
      return
    elif [[ $w == --*=* ]]; then
      [[ ${w%%=*} == --resources ]] && resources=(--resources "${w#*=}")
    elif [[ $w == -* ]]; then
      if [[ -n ${_lockable_metavars[$cmd$w]-} ]]; then
        if ((i + 1 == ${#words[@]})); then
          option=$w
        else
          [[ $w == --resources ]] && resources=(--resources "${words[i + 1]}")
          ((i++))
        fi
      fi
    else
      _lockable_command "$i" "$cur"
      return
    fi
    ((i++))
  done

  if [[ -z $option && $cur == --*=* ]]; then
    option=${cur%%=*}
    value=${cur#*=}
  elif [[ -n $option ]]; then
    value=$cur
  fi

  local -a candidates=()
  if [[ -n $option ]]; then
    local head=${cur:0:${#cur}-${#value}}
    case ${_lockable_metavars[$cmd$option]-} in
      FILE) mapfile -t candidates < <(compgen -f -- "$value") ;;
      DIR) mapfile -t candidates < <(compgen -d -- "$value") ;;
      R)
        if [[ $value == *id=* ]]; then
          local before=${value%id=*}id= id
          for id in $(_lockable_resource_ids "$cmd" "${resources[@]}"); do
            [[ $before$id == "$value"* ]] && candidates+=("$before$id")
          done
        fi
        ;;
      *\|*)
        local choice
        for choice in ${_lockable_metavars[$cmd$option]//|/ }; do
          [[ $choice == "$value"* ]] && candidates+=("$choice")
        done
        ;;
    esac
    local c
    for c in "${candidates[@]}"; do
      c=$head$c
      COMPREPLY+=("${c:${#kept}}")
    done
    [[ ${_lockable_metavars[$cmd$option]-} == FILE || ${_lockable_metavars[$cmd$option]-} == DIR ]] &&
      compopt -o filenames 2>/dev/null
    return
  fi

  if [[ $cur == -* ]]; then
    local o
    for o in ${_lockable_options[$cmd]-} --; do
      [[ $o == "$cur"* ]] && COMPREPLY+=("$o")
    done
    return
  fi
  _lockable_command "${#words[@]}" "$cur"
}

# Completes the command lockable runs, whose first word is words[$1] (the caller's words, split
# at blanks only, the word under the cursor being $2).
_lockable_command() {
  if declare -F _command_offset >/dev/null; then
    COMP_WORDS=("${words[@]}" "$2")
    COMP_CWORD=${#words[@]}
    _command_offset "$1"
  elif (($1 >= ${#words[@]})); then
    mapfile -t COMPREPLY < <(compgen -c -- "$2" | sort -u)
  else
    mapfile -t COMPREPLY < <(compgen -f -- "$2")
    compopt -o filenames 2>/dev/null
  fi
}

complete -F _lockable lockable
