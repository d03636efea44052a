'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { visibleItems } = require('../src/visible.js');

const items = [
  { id: 1, archived: false },
  { id: 2, archived: true },
  { id: 3, archived: false },
];
const ids = (list) => list.map((item) => item.id);

test('hides archived items by default', () => {
  assert.deepEqual(ids(visibleItems(items)), [1, 3]);
});

test('includes archived items when asked', () => {
  assert.deepEqual(ids(visibleItems(items, { includeArchived: true })), [1, 2, 3]);
});

test('empty list', () => {
  assert.deepEqual(visibleItems([]), []);
});
