'use strict';

/** The items a list shows: archived ones only when INCLUDEARCHIVED. */
function visibleItems(items, { includeArchived = false } = {}) {
  return items.filter((item) => includeArchived || !item.archived);
}

module.exports = { visibleItems };
