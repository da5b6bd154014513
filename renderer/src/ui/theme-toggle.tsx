import { useEffect, useState, type ReactNode } from 'react';

type Theme = 'system' | 'light' | 'dark';
const THEMES: readonly Theme[] = ['system', 'light', 'dark'];
/** Only the theme is kept in page storage; nothing about the session ever is. */
const STORAGE_KEY = 'ccos.theme';

function stored(): Theme {
  const v = window.localStorage.getItem(STORAGE_KEY);
  return v === 'light' || v === 'dark' ? v : 'system';
}

/** Light, dark, or as the system says. */
export function ThemeToggle(): ReactNode {
  const [theme, setTheme] = useState<Theme>(stored);
  useEffect(() => {
    if (theme === 'system') {
      delete document.documentElement.dataset.theme;
      window.localStorage.removeItem(STORAGE_KEY);
    } else {
      document.documentElement.dataset.theme = theme;
      window.localStorage.setItem(STORAGE_KEY, theme);
    }
  }, [theme]);
  return (
    <label className="theme">
      Theme
      <select
        value={theme}
        onChange={(e) => {
          setTheme(THEMES.find((t) => t === e.target.value) ?? 'system');
        }}
      >
        {THEMES.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}
