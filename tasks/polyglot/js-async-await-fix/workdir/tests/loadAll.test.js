'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { loadAll } = require('../src/loadAll.js');

const later = (value, ms) => new Promise((resolve) => setTimeout(() => resolve(value), ms));

test('resolves to values in order', async () => {
  const values = await loadAll([3, 1, 2], (id) => later(id * 10, id));
  assert.deepEqual(values, [30, 10, 20]);
});

test('empty list gives empty array', async () => {
  assert.deepEqual(await loadAll([], async () => 1), []);
});

test('rejects when a load rejects', async () => {
  const load = async (id) => {
    if (id === 2) {
      throw new Error('no such id: 2');
    }
    return id;
  };
  await assert.rejects(loadAll([1, 2, 3], load), /no such id: 2/);
});
