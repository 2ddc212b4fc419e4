// NHS.UK frontend components, progressively enhanced: every page works without this.
import { initAll } from '../nhsuk/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
