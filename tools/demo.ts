import { PACKAGE_NAME } from '@rxrnn/kernels';
console.log(PACKAGE_NAME);
