/** Distribution images bothworlds builds, by the name a matrix uses (`image: debian-12`). */
export const DISTRO_IMAGES: Readonly<Record<string, { suite: string }>> = { 'debian-12': { suite: 'bookworm' } };
