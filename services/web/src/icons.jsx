// A few line icons as inline SVG (no icon font, no emoji font needed), 24x24, currentColor.
const PATHS = {
  pizza: 'M12 2 2.5 20.5c6.1 2 12.9 2 19 0L12 2zM9 13.2a1.3 1.3 0 1 0 0 .1zM14.5 15.5a1.3 1.3 0 1 0 0 .1zM12 8.7a1.2 1.2 0 1 0 0 .1zM4 17.5c5.2 1.5 10.8 1.5 16 0',
  heart: 'M12 20.5 4.2 12.9a4.9 4.9 0 0 1 7-6.9l.8.8.8-.8a4.9 4.9 0 0 1 7 6.9L12 20.5z',
  store: 'M3 9.5 4.5 4h15L21 9.5M3 9.5h18M3 9.5c0 1.5 1.3 2.5 3 2.5s3-1 3-2.5c0 1.5 1.3 2.5 3 2.5s3-1 3-2.5c0 1.5 1.3 2.5 3 2.5s3-1 3-2.5M5 12v8h14v-8M10 20v-5h4v5',
  chat: 'M4 5h16v11H9l-5 4V5z',
  user: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 3.6-6.5 8-6.5s8 2.5 8 6.5',
  pulse: 'M2 12h4l3-7 4 14 3-7h6',
  key: 'M8 15a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM12 11h10M18 11v3M21 11v2',
  plus: 'M12 4v16M4 12h16',
  cross: 'M6 6l12 12M18 6 6 18',
  check: 'M5 12.5 10 17.5 19 7',
  star: 'M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.3-4.1 5.9-.9L12 3.5z',
  undo: 'M9 14 4 9l5-5M4 9h10.5a5.5 5.5 0 0 1 0 11H11',
};

export function Icon({ name, size = 24, className = 'icon' }) {
  return (
    <svg className={className} width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor"
      strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}
