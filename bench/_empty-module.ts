/**
 * An empty module: `bench/_cold-child.ts`'s `empty-import` case imports it, so
 * that the runtime's own cost of a dynamic import (the loader's first use)
 * can be taken away from the cost of importing authkeep.
 *
 * @module
 */
export const EMPTY_MODULE = true;
