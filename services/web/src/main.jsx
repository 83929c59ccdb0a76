import { createRoot } from 'react-dom/client';
import { App } from './App.jsx';
import { fromLegacyHash } from './routes.js';
import './styles.css';

// Links of the hash-routing days (/#/likes) land on their page.
const moved = fromLegacyHash(window.location.hash);
if (moved) window.history.replaceState(null, '', moved);

createRoot(document.getElementById('root')).render(<App />);
