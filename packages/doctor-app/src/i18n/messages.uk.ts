import type { Messages } from './messages.en.js';

export const uk: Messages = {
  app: {
    product: 'MedGrid',
    tagline: 'Медичні зображення в гріді',
  },
  nav: {
    label: 'Головна навігація',
    home: 'Головна',
    studies: 'Дослідження',
    shared: 'Надані мені',
    upload: 'Завантаження',
  },
  language: {
    label: 'Мова',
  },
  home: {
    title: 'Вітаємо, лікарю',
    intro: 'Завантажуйте, шукайте та надавайте доступ до знеособлених досліджень у сховищах гріду.',
  },
  placeholder: {
    body: 'Цей розділ ще в розробці.',
  },
  notFound: {
    title: 'Сторінку не знайдено',
    back: 'На початкову сторінку',
  },
  version: {
    label: 'Версія сервера',
    loading: 'Підключення до сервера…',
    error: 'Сервер недоступний.',
  },
};
