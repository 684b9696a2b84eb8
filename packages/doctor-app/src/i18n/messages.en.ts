export const en = {
  app: {
    product: 'MedGrid',
    tagline: 'Medical images on the grid',
  },
  nav: {
    label: 'Main navigation',
    home: 'Home',
    studies: 'Studies',
    shared: 'Shared with me',
    upload: 'Upload',
  },
  language: {
    label: 'Language',
  },
  home: {
    title: 'Welcome, doctor',
    intro: 'Upload, find and share de-identified studies stored on grid storage.',
  },
  placeholder: {
    body: 'This section is not built yet.',
  },
  notFound: {
    title: 'Page not found',
    back: 'Back to the start page',
  },
  version: {
    label: 'Server version',
    loading: 'Connecting to the server…',
    error: 'The server cannot be reached.',
  },
};

export type Messages = typeof en;
