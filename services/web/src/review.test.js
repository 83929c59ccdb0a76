import { expect, test } from 'vitest';
import { rejectionBody, reviewState } from './review.js';

test('each review state has its label and badge', () => {
  expect(reviewState({ status: 'pending', approved: false, rejection_reason: null }))
    .toEqual({ status: 'pending', label: 'Awaiting review', className: 'badge pending', reason: null });
  expect(reviewState({ status: 'approved', approved: true, rejection_reason: null }))
    .toEqual({ status: 'approved', label: 'Approved', className: 'badge ok', reason: null });
  expect(reviewState({ status: 'rejected', approved: false, rejection_reason: 'No photo' }))
    .toEqual({ status: 'rejected', label: 'Rejected', className: 'badge bad', reason: 'No photo' });
});

test('a reason shows only for a rejected pizza', () => {
  expect(reviewState({ status: 'pending', rejection_reason: 'stale' }).reason).toBe(null);
});

test('without status, approved decides', () => {
  expect(reviewState({ approved: true }).status).toBe('approved');
  expect(reviewState({ approved: false }).status).toBe('pending');
  expect(reviewState({ status: 'weird', approved: true }).status).toBe('approved');
});

test('a rejection needs a reason that is not blank', () => {
  expect(rejectionBody('')).toBe(null);
  expect(rejectionBody('  \n ')).toBe(null);
  expect(rejectionBody(undefined)).toBe(null);
  expect(rejectionBody(' Blurry photo ')).toEqual({ approved: false, rejection_reason: 'Blurry photo' });
});
