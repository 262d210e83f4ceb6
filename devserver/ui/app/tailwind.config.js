// Tailwind 3 loads this file through jiti, which also resolves the library preset's extensionless imports.
import defaultTheme from 'tailwindcss/defaultTheme';
// The package exports its modules to bundlers only (the `import` condition), so the preset is loaded by path;
// the library is a direct dependency of the project, so it sits in the root node_modules.
import preset from '../../../node_modules/@temporalio/ui/dist/theme/preset.js';

export default {
  presets: [preset],
  // The library's components carry most of the class names: scan them as well as the shell's own.
  content: {
    relative: true,
    files: ['./src/**/*.{html,js,svelte}', '../../../node_modules/@temporalio/ui/dist/**/*.{js,svelte}'],
  },
  darkMode: ['selector', '[data-theme="dark"]'],
  theme: {
    fontFamily: {
      sans: ['"Inter Variable"', ...defaultTheme.fontFamily.sans],
      mono: ['"Noto Sans Mono"', ...defaultTheme.fontFamily.mono],
    },
  },
};
