// Where ftrace keeps its records, and what ftrace_init says about it at boot
// (kernel/trace/ftrace.c: ftrace_init, ftrace_allocate_pages, ftrace_allocate_records).
// The records live in groups of 2^order contiguous pages; the boot lines report the pages the
// section's count needs at one page each, then the pages and groups really allocated.

/** sizeof(struct dyn_ftrace) on x86-64: ip and flags (x86's struct dyn_arch_ftrace is empty). */
export const DYN_FTRACE_SIZE = 16;
const PAGE_SIZE = 4096;
/** ENTRIES_PER_PAGE. */
export const ENTRIES_PER_PAGE = PAGE_SIZE / DYN_FTRACE_SIZE;

/**
 * ftrace_allocate_pages for `count` records: each group takes the largest power of two of
 * pages that the records still to place fill without an empty page (order = fls(pages) - 1),
 * as long as the page allocator grants it (here it always does).
 */
export function ftraceGroups(count: number): number[] {
  const orders: number[] = [];
  for (let left = count; left > 0;) {
    const pages = Math.ceil(left / ENTRIES_PER_PAGE);
    const order = 31 - Math.clz32(pages);
    orders.push(order);
    left -= Math.min(left, (PAGE_SIZE << order) / DYN_FTRACE_SIZE);
  }
  return orders;
}

/** ftrace_init's lines for a __mcount_loc section of `count` entries. */
export function ftraceInitLines(count: number): string[] {
  if (count === 0) return ["ftrace: No functions to be traced?"];
  const orders = ftraceGroups(count);
  const pages = orders.reduce((n, o) => n + (1 << o), 0);
  return [
    `ftrace: allocating ${count} entries in ${Math.ceil(count / ENTRIES_PER_PAGE)} pages`,
    `ftrace: allocated ${pages} pages with ${orders.length} groups`,
  ];
}
