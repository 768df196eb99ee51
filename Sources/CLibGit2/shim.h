// The libgit2 API as one header for the CLibGit2 module (apt: libgit2-dev, pkg-config: libgit2).
#ifndef DCAPPLY_CLIBGIT2_SHIM_H
#define DCAPPLY_CLIBGIT2_SHIM_H
#include <git2.h>
#endif
