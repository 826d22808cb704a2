#pragma once

// The settings of the `lockable` command and the GoogleTest plugin (requirements, inventory,
// lock folder, lock server, timeout, host name, the plugin's on_unavailable) each come from a
// command-line option or flag, else from an environment variable, else a default; a variable that
// is set but empty counts as unset. The variables' names are in env.hpp; docs/command.md and
// docs/plugin.md list the options, flags and defaults. How the front ends parse them is internal to
// the project (gtest_lockable/internal/settings.hpp), not part of the library's API.

#include "gtest_lockable/env.hpp"
