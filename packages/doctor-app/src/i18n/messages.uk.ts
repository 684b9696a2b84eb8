import { commonUk } from '@medgrid/web-common';
import type { Messages } from './messages.en.js';

export const uk: Messages = {
  ...commonUk,
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
  home: {
    title: 'Вітаємо, лікарю',
    intro: 'Завантажуйте, шукайте та надавайте доступ до знеособлених досліджень у сховищах гріду.',
  },
  placeholder: {
    body: 'Цей розділ ще в розробці.',
  },
  membership: {
    title: 'Ваше членство у ВО',
    none: 'Ви ще не учасник ВО MedGrid. Подайте заявку до групи — її схвалить адміністратор.',
    group: 'Група',
    groupHint: 'Наприклад, /medgrid/kyiv-clinic/radiology',
    request: 'Подати заявку',
    requested: 'Заявку надіслано.',
    statuses: {
      REQUESTED: 'заявку подано, очікує схвалення',
      APPROVED: 'схвалено, прийміть правила',
      REJECTED: 'відхилено',
      ACTIVE: 'активне',
      SUSPENDED: 'призупинено',
      EXPIRED: 'строк минув',
    },
    expires: 'до {date}',
  },
  notFound: {
    title: 'Сторінку не знайдено',
    back: 'На початкову сторінку',
  },
};
