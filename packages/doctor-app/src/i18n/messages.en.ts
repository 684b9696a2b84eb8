import { commonEn } from '@medgrid/web-common';

export const en = {
  ...commonEn,
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
  home: {
    title: 'Welcome, doctor',
    intro: 'Upload, find and share de-identified studies stored on grid storage.',
  },
  placeholder: {
    body: 'This section is not built yet.',
  },
  membership: {
    title: 'Your VO membership',
    none: 'You are not a member of the MedGrid VO yet. Ask to join a group; an administrator will approve it.',
    group: 'Group',
    groupHint: 'For example /medgrid/kyiv-clinic/radiology',
    request: 'Request membership',
    requested: 'Your request has been sent.',
    statuses: {
      REQUESTED: 'requested, waiting for approval',
      APPROVED: 'approved, accept the AUP',
      REJECTED: 'rejected',
      ACTIVE: 'active',
      SUSPENDED: 'suspended',
      EXPIRED: 'expired',
    },
    expires: 'until {date}',
  },
  notFound: {
    title: 'Page not found',
    back: 'Back to the start page',
  },
};

export type Messages = typeof en;
