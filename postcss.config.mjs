/** PostCSS: Tailwind CSS v4 through its PostCSS plugin (no tailwind.config.js; theme lives in app/globals.css). */
const config = {
  plugins: {
    "@tailwindcss/postcss": {},
  },
};

export default config;
