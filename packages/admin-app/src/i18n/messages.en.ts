export const en = {
  app: {
    product: 'MedGrid',
    section: 'Administration',
  },
  nav: {
    label: 'Main navigation',
    home: 'Overview',
    certificates: 'Certificates',
    membership: 'Membership',
    storage: 'Storage',
    audit: 'Audit log',
  },
  language: {
    label: 'Language',
  },
  home: {
    title: 'Administration',
    intro:
      'Run the certificate authority, manage VO membership, and watch storage, queues and the audit log.',
  },
  placeholder: {
    body: 'This section is not built yet.',
  },
  notFound: {
    title: 'Page not found',
    back: 'Back to the overview',
  },
  version: {
    label: 'Server version',
    loading: 'Connecting to the server…',
    error: 'The server cannot be reached.',
  },
};

export type Messages = typeof en;
