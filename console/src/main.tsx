import { render } from 'preact';
import { App } from './app.js';
import './frame.css';
import './app.css';

render(<App />, document.getElementById('app')!);
