import { expect, test } from 'vitest';
import { fieldLabel, fieldSentence, sentence } from './messages.js';

test('a field is named as its form labels it, never by its wire name', () => {
  expect(fieldLabel('current_password')).toBe('Current password');
  expect(fieldLabel('thumbnail_url')).toBe('Photo URL');
  expect(fieldLabel('username')).toBe('Username');
  expect(fieldLabel('pizza_ids')).toBe('Pizza ids');
  expect(fieldLabel('')).toBe('This field');
  expect(fieldLabel('constructor')).toBe('Constructor');
});

test('field errors read as sentences', () => {
  expect(fieldSentence('current_password', 'is incorrect')).toBe('Current password is incorrect.');
  expect(fieldSentence('password', 'must be 8 to 256 characters')).toBe('Password must be 8 to 256 characters.');
  expect(fieldSentence('username', 'is already taken')).toBe('Username is already taken.');
  expect(fieldSentence('picture', 'The file is too large.')).toBe('The file is too large.');
  expect(fieldSentence('email', '')).toBe('Email is not valid.');
});

test('a message gets a capital and a full stop, once', () => {
  expect(sentence('invalid username or password')).toBe('Invalid username or password.');
  expect(sentence('Try again in a moment.')).toBe('Try again in a moment.');
  expect(sentence('  ')).toBe('');
  expect(sentence(null)).toBe('');
});
