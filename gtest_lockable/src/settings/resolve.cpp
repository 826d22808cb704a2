// The one resolver of both front ends: option or flag, then variable, then default.
#include <string>

#include "gtest_lockable/internal/settings.hpp"
#include "gtest_lockable/requirements.hpp"

namespace gtest_lockable::internal {

resolution resolve(front_end which, const std::map<std::string, std::string>& given,
                   const env_reader& getenv) {
  resolution out;
  for (const setting_spec& spec : setting_specs()) {
    const front_end_face& face = face_of(spec, which);
    const sourced fallback{face.fallback(), default_source};
    sourced value = fallback;
    // A setting this front end does not have is not read from the environment either: the
    // command must not fail on the plugin's LOCKABLE_ON_UNAVAILABLE.
    if (face.option != nullptr) {
      if (const auto it = given.find(spec.name); it != given.end()) {
        value = {it->second, face.option};
      } else if (auto from_env = getenv(spec.variable); from_env && !from_env->empty()) {
        // Set but empty counts as unset: `LOCKABLE_TIMEOUT= cmd` is how shells unset a
        // variable for one command, and py-lockable reads it so too.
        value = {std::move(*from_env), spec.variable};
      }
    }
    try {
      spec.store(out.values, value);
    } catch (const error& e) {
      out.problems.push_back(e);
      spec.store(out.values, fallback);  // the defaults are valid
    }
  }
  return out;
}

nlohmann::json parse_requirements_setting(const sourced& requirements) {
  try {
    return parse_requirements(requirements.value);
  } catch (const error& e) {
    if (requirements.source == default_source) throw;
    throw error(e.code(), requirements.source + ": " + e.what());
  }
}

}  // namespace gtest_lockable::internal
