// libyaml's API as one header for the CLibYAML module (apt: libyaml-dev, pkg-config: yaml-0.1).
// dcapply reads YAML through its own composer over libyaml's event parser (YAMLComposer.swift).
#ifndef DCAPPLY_CLIBYAML_SHIM_H
#define DCAPPLY_CLIBYAML_SHIM_H
#include <yaml.h>

// libyaml after 0.2.5 (and the copy Yams bundles, which the test binary links) stops at a nesting
// depth of its own, found while it scans ahead, at an arbitrary bracket; Debian's 0.2.5 has none.
// Declared weak so that the same binary code runs on both: where the function exists the limit
// is raised well above dcapply's own, so dcapply's check fires first, at the right place.
extern void yaml_set_max_nest_level(int max) __attribute__((weak));

static inline void dcapply_yaml_raise_nesting_limit(int max) {
    if (yaml_set_max_nest_level) {
        yaml_set_max_nest_level(max);
    }
}
#endif
