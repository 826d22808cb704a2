// Command-line parsing for `lockable`. The options that set a setting come from the settings
// layer's one table (shared with the plugin's flags), which also resolves them; the switches that
// choose a mode are the command's own, in the table below. The parser and --help read the same
// tables, so they agree.
#include "cli/options.hpp"

#include <algorithm>
#include <array>
#include <map>

#include "cli/exit_codes.hpp"
#include "gtest_lockable/error.hpp"
#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/lockable.hpp"

namespace gtest_lockable::cli {
namespace {

using internal::front_end;
using internal::setting_spec;
using internal::setting_specs;

// The setting whose command-line option is `name`, or null.
const setting_spec* find_setting(const std::string& name) {
  for (const setting_spec& spec : setting_specs()) {
    if (spec.command.option != nullptr && name == spec.command.option) return &spec;
  }
  return nullptr;
}

// An option without a value: it chooses a mode, or sets one of the command's own switches.
struct switch_flag {
  const char* name;
  const char* help;  ///< Null for an alias that --help does not list.
  mode chooses;      ///< The mode it chooses, when `sets` is null.
  bool cli_options::*sets = nullptr;
};

void set_mode(cli_options& opts, mode m, const char* name) {
  // --help and --version win over everything, as in most tools.
  if (opts.what == mode::help || opts.what == mode::version) return;
  if (m == mode::help || m == mode::version || opts.what == mode::run || opts.what == m) {
    opts.what = m;
    return;
  }
  throw error(errc::invalid_argument,
              std::string("option ") + name +
                  " cannot be combined with another of --list, --ctest-resources, --status, "
                  "--validate-only, --hold, --release, --history, --stats, --metrics, "
                  "--quarantine, --unquarantine and "
                  "--report (see lockable --help)");
}

// An option of the command's own that takes a value (the settings' options are in the table
// of the settings layer). `value` stores it.
struct value_option {
  const char* name;
  const char* metavar;
  const char* help;
  void (*value)(cli_options& opts, const std::string& text);
};

// A value that must not be empty, for the ledger's readers.
void store_text(std::string& to, const char* option, const std::string& text) {
  if (text.empty()) {
    throw error(errc::invalid_argument,
                std::string("option ") + option + " needs a value (see lockable --help)");
  }
  to = text;
}

const std::array<value_option, 10> value_options = {{
    {"--for", "DURATION", "with --hold: how long the hold lasts (90s, 15m, 2h; at most 720h)",
     [](cli_options& opts, const std::string& text) {
       opts.hold_for = internal::parse_duration(text, "hold duration", "--for");
       if (opts.hold_for.count() <= 0 || opts.hold_for > max_hold_duration) {
         throw error(errc::invalid_argument, "invalid hold duration '" + text +
                                                 "' from --for: give more than 0 and at most "
                                                 "720h (30 days)");
       }
     }},
    {"--note", "TEXT",
     "with --hold: what the hold is for, shown by --status (one line, at most 500 bytes)",
     [](cli_options& opts, const std::string& text) {
       try {
         check_hold_request(seconds(1), text);
       } catch (const error& e) {
         throw error(errc::invalid_argument, std::string("--note: ") + e.what());
       }
       opts.note = text;
     }},
    {"--release", "ID",
     "end the hold of resource ID (made by --hold or --lockable_hold_on_failure); only its "
     "owner may, or anyone with --force, which is recorded; takes no command",
     [](cli_options& opts, const std::string& text) {
       set_mode(opts, mode::release, "--release");
       opts.release_id = text;
     }},
    {"--metrics", "FILE",
     "write the ledger's figures to FILE in the Prometheus text format (for node_exporter's "
     "textfile collector; - for stdout): per resource its state, allocations, failures, wait "
     "and hold histograms; reads the inventory for the states",
     [](cli_options& opts, const std::string& text) {
       set_mode(opts, mode::metrics, "--metrics");
       store_text(opts.output, "--metrics", text);
     }},
    {"--report", "FILE",
     "write the ledger as one self-contained HTML page to FILE: a timeline of the allocations "
     "per resource, utilisation and wait charts, the table of --stats",
     [](cli_options& opts, const std::string& text) {
       set_mode(opts, mode::report, "--report");
       store_text(opts.output, "--report", text);
     }},
    {"--since", "WHEN",
     "with --history, --stats, --metrics, --report: only allocations held since WHEN, a "
     "duration back from now (90m, 24h, 7d) or a UTC date (2026-12-01, 2026-12-01T08:00)",
     [](cli_options& opts, const std::string& text) { store_text(opts.since, "--since", text); }},
    {"--resource", "ID", "with --history, --stats, --metrics, --report: only resource ID",
     [](cli_options& opts, const std::string& text) {
       store_text(opts.resource, "--resource", text);
     }},
    {"--quarantine", "ID",
     "quarantine resource ID (with --reason TEXT): no lock of ours hands it out until "
     "lockable --unquarantine ID; recorded in the lock store with who, when and why; "
     "takes no command",
     [](cli_options& opts, const std::string& text) {
       set_mode(opts, mode::quarantine, "--quarantine");
       store_text(opts.health_id, "--quarantine", text);
     }},
    {"--reason", "TEXT", "with --quarantine: why (one line, at most 500 bytes)",
     [](cli_options& opts, const std::string& text) {
       opts.reason = text;
       opts.reason_given = true;
     }},
    {"--unquarantine", "ID",
     "end the quarantine of resource ID, by hand or automatic, and forget its failures; takes "
     "no command",
     [](cli_options& opts, const std::string& text) {
       set_mode(opts, mode::unquarantine, "--unquarantine");
       store_text(opts.health_id, "--unquarantine", text);
     }},
}};

const std::array<switch_flag, 15> switch_flags = {{
    {"--list",
     "print the inventory entries the requirements select, as a JSON array in "
     "inventory order; locks nothing, takes no command",
     mode::list},
    {"--ctest-resources",
     "print the selected entries as the resources of a CTest resource spec, a JSON "
     "array of {\"id\", \"slots\"}: ids in lower case with characters outside "
     "[a-z0-9_] as _, ids that map alike as one resource with a slot each; locks "
     "nothing, takes no command",
     mode::ctest},
    {"--ctest-plan",
     "(for the CMake module) LIST CTEST_FILE POOLS: give the tests of CTEST_FILE the CTest "
     "resource groups of what they declare, as LIST (--lockable_list_requirements) says",
     mode::ctest_plan},
    {"--ctest-spec",
     "(for the CMake module) POOLS SPEC: write the CTest resource spec of the pools described "
     "in POOLS; warns of a pool that matches nothing",
     mode::ctest_spec},
    {"--status",
     "print the lock state of every selected entry: free, held (PID, host, "
     "since when) or stale (its holder died); takes no command",
     mode::status},
    {"--json", "with --status, --history, --stats: print JSON instead of a table", mode::run,
     &cli_options::json},
    {"--validate-only",
     "check the inventory (and the requirements) and exit; prints every problem "
     "found; takes no command",
     mode::validate},
    {"--hold",
     "lock a resource as usual (waiting up to --timeout), then keep it held after "
     "lockable exits, for --for DURATION or until lockable --release ID, with --note "
     "TEXT; takes no command but an optional resource id; prints the id on stdout",
     mode::hold},
    {"--force", "with --release: end another user's hold too (recorded in the lock folder)",
     mode::run, &cli_options::force},
    {"--history",
     "print the allocations the usage ledger recorded, oldest first: when, which resource, "
     "wait, hold, holder, CI job and outcome (see --since, --resource, --json); takes no "
     "command",
     mode::history},
    {"--stats",
     "print per resource, from the ledger: allocations, utilisation over the period, mean and "
     "p95 wait and hold, failure rate and the last failing runs; takes no command",
     mode::stats},
    {"--quiet", "no messages of ours on stderr (the 'holding' and 'waiting' lines); errors stay",
     mode::run, &cli_options::quiet},
    {"--help", "print this help and exit (also -h)", mode::help},
    {"--version", "print the version and exit", mode::version},
    {"-h", nullptr, mode::help},
}};

void apply(const switch_flag& flag, cli_options& opts) {
  if (flag.sets != nullptr) {
    opts.*flag.sets = true;
  } else {
    set_mode(opts, flag.chooses, flag.name);
  }
}

[[noreturn]] void usage_error(const std::string& what) {
  throw error(errc::invalid_argument, what + " (see lockable --help)");
}

}  // namespace

cli_options parse_options(const std::vector<std::string>& args, const env_reader& getenv) {
  cli_options opts;
  std::map<std::string, std::string> given;  // setting name -> value
  std::vector<std::pair<const value_option*, std::string>> given_own;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') break;  // the command starts here
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (const setting_spec* spec = find_setting(name)) {
      if (eq != std::string::npos) {
        given[spec->name] = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        given[spec->name] = args[++i];
      } else {
        usage_error("option " + name + " needs a value: " + name + " " + spec->command.metavar);
      }
      continue;
    }
    const auto value_it = std::find_if(value_options.begin(), value_options.end(),
                                       [&](const value_option& o) { return name == o.name; });
    if (value_it != value_options.end()) {
      if (eq != std::string::npos) {
        given_own.emplace_back(&*value_it, arg.substr(eq + 1));
      } else if (i + 1 < args.size()) {
        given_own.emplace_back(&*value_it, args[++i]);
      } else {
        usage_error("option " + name + " needs a value: " + name + " " + value_it->metavar);
      }
      continue;
    }
    const auto switch_it = std::find_if(switch_flags.begin(), switch_flags.end(),
                                        [&](const switch_flag& f) { return name == f.name; });
    if (switch_it == switch_flags.end()) usage_error("unknown option '" + arg + "'");
    if (eq != std::string::npos) usage_error("option " + name + " takes no value");
    apply(*switch_it, opts);
  }
  opts.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (opts.what == mode::help || opts.what == mode::version) return opts;
  bool hold_for_given = false, note_given = false;
  for (const auto& [option, text] : given_own) {
    option->value(opts, text);
    hold_for_given = hold_for_given || option->value == value_options[0].value;
    note_given = note_given || option->value == value_options[1].value;
  }

  internal::resolution resolved = internal::resolve(front_end::command, given, getenv);
  // One message at a time, as usage errors go; the plugin lists them all instead.
  if (!resolved.problems.empty()) throw resolved.problems.front();
  static_cast<internal::settings&>(opts) = std::move(resolved.values);

  const bool reads_ledger = opts.what == mode::history || opts.what == mode::stats ||
                            opts.what == mode::metrics || opts.what == mode::report;
  if (opts.json && opts.what != mode::status && opts.what != mode::history &&
      opts.what != mode::stats) {
    usage_error("option --json applies to --status, --history and --stats only");
  }
  if ((!opts.since.empty() || !opts.resource.empty()) && !reads_ledger) {
    usage_error("options --since and --resource apply to --history, --stats, --metrics and "
                "--report only");
  }
  if ((hold_for_given || note_given) && opts.what != mode::hold) {
    usage_error(std::string("option ") + (hold_for_given ? "--for" : "--note") +
                " applies to --hold only");
  }
  if (opts.force && opts.what != mode::release) usage_error("option --force applies to --release only");
  if (opts.reason_given && opts.what != mode::quarantine) {
    usage_error("option --reason applies to --quarantine only");
  }
  if (opts.what == mode::quarantine && !opts.reason_given) {
    usage_error("option --quarantine needs --reason TEXT: say why");
  }
  if (opts.what == mode::hold) {
    if (!hold_for_given) usage_error("option --hold needs --for DURATION: how long to keep it");
    if (opts.command.size() > 1) {
      usage_error("--hold takes at most one resource id, not a command ('" + opts.command[1] +
                  "')");
    }
    return opts;
  }
  if (opts.what == mode::run && opts.command.empty()) {
    usage_error("missing command: lockable [options] [--] command [args...]");
  }
  const bool takes_arguments = opts.what == mode::ctest_plan || opts.what == mode::ctest_spec;
  if (opts.what != mode::run && !takes_arguments && !opts.command.empty()) {
    usage_error("unexpected argument '" + opts.command.front() +
                "': --list, --ctest-resources, --status, --validate-only, --release, --quarantine, "
                "--unquarantine, --history, "
                "--stats, --metrics and --report take no command");
  }
  return opts;
}

std::string help_text() {
  constexpr std::size_t column = 24;
  std::string out =
      "Usage: lockable [options] [--] command [args...]\n"
      "       lockable --list | --ctest-resources | --status [--json] | --validate-only\n"
      "                [options]\n"
      "       lockable --hold --for DURATION [--note TEXT] [options] [ID]\n"
      "       lockable --release ID [--force] [options]\n"
      "       lockable --quarantine ID --reason TEXT | --unquarantine ID [options]\n"
      "       lockable --history | --stats [--json] | --metrics FILE | --report FILE\n"
      "                [--since WHEN] [--resource ID] [options]\n"
      "\n";
  out += internal::wrap(
      "Locks one resource from the inventory that matches the requirements, runs the "
      "command (directly, without a shell) while it is held, then releases it. The "
      "command gets each top-level field of the resource as an environment variable "
      "named in upper case (ID, HOSTNAME, ONLINE, ...; strings as they are, other "
      "values as JSON) and LOCKABLE_RESOURCE_ID, LOCKABLE_RESOURCE_INFO (the resource "
      "as JSON) and LOCKABLE_ALLOC_ID. With a lock folder the lock stays held as long "
      "as the command runs, also if lockable itself is killed. With --lock-server it "
      "lives as long as lockable renews it: if it is lost (etcd unreachable for longer "
      "than the lease TTL), the command gets SIGTERM and lockable exits with 76. "
      "SIGINT, SIGTERM and SIGHUP are passed on to the command.",
      0, 0);
  out +=
      "\n"
      "Options (an option wins over its variable; an empty variable counts as unset):\n";
  for (const setting_spec& spec : setting_specs()) {
    if (spec.command.option == nullptr) continue;
    std::string head = std::string("  ") + spec.command.option + " " + spec.command.metavar;
    head.resize(std::max(column, head.size() + 1), ' ');
    out += head + internal::wrap(spec.help, column, head.size());
    out.append(column, ' ');
    out += std::string("variable ") + spec.variable + ", default " +
           internal::shown_default(spec, front_end::command) + "\n";
  }
  for (const auto& option : value_options) {
    std::string head = std::string("  ") + option.name + " " + option.metavar;
    head.resize(std::max(column, head.size() + 1), ' ');
    out += head + internal::wrap(option.help, column, head.size());
  }
  for (const auto& flag : switch_flags) {
    if (flag.help == nullptr) continue;
    std::string head = std::string("  ") + flag.name;
    head.resize(column, ' ');
    out += head + internal::wrap(flag.help, column, column);
  }
  out +=
      "\n"
      "Exit status:\n"
      "  the command's own status, or 128+N if it died of signal N; otherwise\n";
  const std::pair<int, const char*> codes[] = {
      {exit_code::usage, "usage error: unknown option, bad option value, missing command"},
      {exit_code::invalid_input, "the inventory or the requirements cannot be read or are invalid"},
      {exit_code::no_match,
       "no resource matches the requirements; with --release: no such hold"},
      {exit_code::internal, "internal error in lockable"},
      {exit_code::os_error, "system error (fork, pipe)"},
      {exit_code::lock_store,
       "lock store problem: lock folder not writable, lock server unreachable"},
      {exit_code::timeout, "timeout: matching resources stayed busy"},
      {exit_code::lock_lost, "the lock was lost (lock server); the command got SIGTERM"},
      {exit_code::not_permitted, "--release of another user's hold without --force"},
      {exit_code::max_hold, "the command held the resource longer than --max-hold and was ended"},
      {exit_code::cannot_execute, "the command is not executable"},
      {exit_code::not_found, "the command was not found"},
  };
  for (const auto& [code, text] : codes) {
    std::string head = "  " + std::to_string(code);
    head.resize(7, ' ');
    out += head + text + "\n";
  }
  out +=
      "  128+N  lockable got signal N while waiting for a resource (nothing is held)\n"
      "\n"
      "Example:\n"
      "  lockable --resources examples/resources.json --hostname localhost \\\n"
      "      --requirements 'type=board' --timeout 1m -- sh -c 'echo \"$ID at $ADDRESS\"'\n";
  return out;
}

}  // namespace gtest_lockable::cli
