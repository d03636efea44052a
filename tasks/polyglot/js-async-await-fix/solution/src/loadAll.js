'use strict';

/**
 * Loads every id with LOAD (an async function) and resolves to the results,
 * in the order of IDS. Rejects with the first error a load rejects with.
 */
async function loadAll(ids, load) {
  const results = [];
  for (const id of ids) {
    results.push(await load(id));
  }
  return results;
}

module.exports = { loadAll };
