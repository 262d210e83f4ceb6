import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autoprefixer from 'autoprefixer';
import tailwindcss from 'tailwindcss';
import nesting from 'tailwindcss/nesting/index.js';

const config = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tailwind.config.js');

export default { plugins: [nesting(), tailwindcss({ config }), autoprefixer()] };
