'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { diffDays, daysUntil } = require('../src/dates.js');

const day = (iso) => new Date(`${iso}T00:00:00Z`);

test('diffDays counts from earlier to later', () => {
  assert.equal(diffDays(day('2026-03-05'), day('2026-03-01')), 4);
});

test('deadline in three days', () => {
  assert.equal(daysUntil(day('2026-02-26'), day('2026-03-01')), 3);
});

test('deadline today', () => {
  assert.equal(daysUntil(day('2026-03-01'), day('2026-03-01')), 0);
});

test('deadline passed two days ago', () => {
  assert.equal(daysUntil(day('2026-03-03'), day('2026-03-01')), -2);
});
