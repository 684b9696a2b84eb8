import type { Messages } from './messages.en.js';

export const uk: Messages = {
  app: {
    product: 'MedGrid',
    section: 'Адміністрування',
  },
  nav: {
    label: 'Головна навігація',
    home: 'Огляд',
    certificates: 'Сертифікати',
    membership: 'Членство',
    storage: 'Сховища',
    audit: 'Журнал аудиту',
  },
  language: {
    label: 'Мова',
  },
  home: {
    title: 'Адміністрування',
    intro: 'Керуйте центром сертифікації та членством у ВО, стежте за сховищами, чергами та журналом аудиту.',
  },
  placeholder: {
    body: 'Цей розділ ще в розробці.',
  },
  notFound: {
    title: 'Сторінку не знайдено',
    back: 'До огляду',
  },
  version: {
    label: 'Версія сервера',
    loading: 'Підключення до сервера…',
    error: 'Сервер недоступний.',
  },
};
