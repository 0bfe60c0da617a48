// What differs between the PostgreSQL majors the plugin builds against (15, 16, 17, 18),
// behind small named functions, so that the rest of the plugin reads the same on each. Each
// shim names the upstream change it follows. 16 has no binary or source build here: its
// shims follow its headers' documented changes and are untested (docs/operations.md).
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
}

namespace crmsync::pg {

// A decoded change's tuple. Up to 16 the reorder buffer wraps it in ReorderBufferTupleBuf;
// 17 removed that struct and keeps the HeapTuple itself (upstream commit 08e6344f, "Remove
// ReorderBufferTupleBuf structure").
#if PG_VERSION_NUM >= 170000
inline HeapTuple change_tuple(HeapTuple tuple) { return tuple; }
#else
inline HeapTuple change_tuple(ReorderBufferTupleBuf* buf) { return buf ? &buf->tuple : nullptr; }
#endif

// Walking an expression tree. Up to 15 expression_tree_walker() takes the walker as an
// unprototyped bool (*)(); 16 made it a macro over expression_tree_walker_impl() taking a
// typed tree_walker_callback.
using ExpressionWalker = bool (*)(Node* node, void* context);
#if PG_VERSION_NUM >= 160000
inline bool walk_expression(Node* node, ExpressionWalker walker, void* context) {
    return expression_tree_walker(node, walker, context);
}
#else
inline bool walk_expression(Node* node, ExpressionWalker walker, void* context) {
    // Through void (*)(void), which GCC accepts as matching any function type.
    return expression_tree_walker(node, reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(walker)), context);
}
#endif

}  // namespace crmsync::pg
