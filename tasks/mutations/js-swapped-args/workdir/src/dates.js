'use strict';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whole days from EARLIER to LATER (both Date objects at UTC midnight). */
function diffDays(later, earlier) {
  return Math.round((later.getTime() - earlier.getTime()) / DAY_MS);
}

/** Days left until DEADLINE, negative once it has passed. */
function daysUntil(today, deadline) {
  return diffDays(today, deadline);
}

module.exports = { diffDays, daysUntil };
